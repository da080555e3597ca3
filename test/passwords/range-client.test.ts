import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PwnedPasswordsRangeClient, type RangeClientOptions } from '../../src/passwords/range-client.js';

const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();

// A tiny Pwned Passwords stand-in: a few real entries, count-0 padding, and switches to
// misbehave. It records each request so the tests can see what left the process.
const breached = new Map([
  [sha1('password'), 10_434_004],
  [sha1('letmein'), 3],
]);
const paddedOnly = sha1('padding-only'); // listed only as a count-0 padding line
let mode: 'ok' | 'slow' | 'error' | 'garbage' | 'huge' = 'ok';
const requests: { url: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const prefix = /^\/range\/([0-9A-F]{5})$/.exec(req.url ?? '')?.[1];
    if (mode === 'error' || prefix === undefined) {
      res.writeHead(mode === 'error' ? 503 : 404).end();
      return;
    }
    if (mode === 'slow') return void setTimeout(() => res.end('late'), 2000);
    if (mode === 'garbage') return void res.end('<html>not a range</html>');
    if (mode === 'huge') return void res.end('A'.repeat(300_000));
    const lines: string[] = [];
    for (const [hash, count] of breached) if (hash.startsWith(prefix)) lines.push(`${hash.slice(5)}:${count}`);
    if (paddedOnly.startsWith(prefix)) lines.push(`${paddedOnly.slice(5)}:0`);
    for (let i = 0; i < 20; i++) lines.push(`${createHash('sha1').update(`pad${i}`).digest('hex').slice(5).toUpperCase()}:0`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  mode = 'ok';
  requests.length = 0;
});

function client(options: RangeClientOptions = {}) {
  const errors: Error[] = [];
  const c = new PwnedPasswordsRangeClient({ baseUrl, onError: (e) => errors.push(e), ...options });
  return { c, errors };
}

describe('PwnedPasswordsRangeClient', () => {
  it('finds a breached password sending only the 5-character prefix, with padding requested', async () => {
    const { c, errors } = client();
    expect(await c.isBreached('password')).toBe(true);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(`/range/${sha1('password').slice(0, 5)}`);
    expect(requests[0]!.headers['add-padding']).toBe('true');
    expect(JSON.stringify(requests)).not.toContain(sha1('password').slice(5));
    expect(errors).toEqual([]);
  });

  it('answers false for an unknown password and for a count-0 padding entry', async () => {
    const { c, errors } = client();
    expect(await c.isBreached('a password nobody ever used 8c1f')).toBe(false);
    expect(await c.isBreached('padding-only')).toBe(false);
    expect(errors).toEqual([]);
  });

  it('applies minCount', async () => {
    const { c } = client({ minCount: 10 });
    expect(await c.isBreached('letmein')).toBe(false);
    expect(await c.isBreached('password')).toBe(true);
  });

  it('caches by prefix, shares concurrent requests, and stays bounded', async () => {
    const { c } = client({ cacheSize: 2 });
    await Promise.all([c.isBreached('password'), c.isBreached('password'), c.isBreached('password')]);
    expect(requests).toHaveLength(1);
    expect(await c.isBreached('password')).toBe(true);
    expect(requests).toHaveLength(1);
    await c.isBreached('letmein');
    await c.isBreached('third distinct prefix');
    expect(c.cacheEntries).toBe(2);
    await c.isBreached('password'); // the oldest entry was evicted
    expect(requests).toHaveLength(4);
  });

  it('expires cached answers', async () => {
    const { c } = client({ cacheTtlMs: 30 });
    await c.isBreached('password');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await c.isBreached('password');
    expect(requests).toHaveLength(2);
  });

  it.each([
    ['an HTTP error', 'error', /HTTP 503/],
    ['a malformed answer', 'garbage', /SUFFIX:COUNT/],
    ['an oversized answer', 'huge', /exceeds/],
  ] as const)('fails open on %s', async (_, failure, message) => {
    mode = failure;
    const { c, errors } = client({ maxResponseBytes: 100_000 });
    expect(await c.isBreached('password')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(message);
    mode = 'ok';
    expect(await c.isBreached('password')).toBe(true); // failures are not cached
  });

  it('fails open within the timeout', async () => {
    mode = 'slow';
    const { c, errors } = client({ timeoutMs: 150 });
    const started = performance.now();
    expect(await c.isBreached('password')).toBe(false);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(errors[0]!.message).toMatch(/timed out/);
  });

  it('fails open when nothing listens', async () => {
    const { c, errors } = client({ baseUrl: 'http://127.0.0.1:1' });
    expect(await c.isBreached('password')).toBe(false);
    expect(errors[0]!.message).toMatch(/range request failed/);
  });
});
