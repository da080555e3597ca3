import express, { type Request } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { ShieldOptions } from '../../src/index.js';
import { clientOrigin } from '../../src/identity/client-origin.js';
import { useCleanup } from '../support/cleanup.js';
import { deviceCookie, loginApp } from '../support/login-app.js';

// A returning device's login skips Express's req.ip when its origin (trust function, socket
// address, X-Forwarded-For) is the one its last visit was keyed from. These tests hold that
// shortcut to req.ip's own answers whenever the app makes req.ip answer otherwise.

const users = { 'bob@example.com': { id: 'u2', password: 'hunter2-but-longer', code: '222222' } };

const current = useCleanup();

function setup(prepare: (app: express.Express) => void, options: ShieldOptions = {}) {
  const t = loginApp(options, users);
  prepare(t.app);
  current.shield = t.shield;
  return t;
}

/** A device that passed the second factor, from `headers`' address. */
async function enrol(app: express.Express, headers: Record<string, string>): Promise<string> {
  const first = await request(app).post('/login').set(headers).send({ email: 'bob@example.com', password: 'hunter2-but-longer' });
  if (first.status === 200) return deviceCookie(first) as string;
  const verified = await request(app).post('/login/verify').set(headers).send({ challenge: first.body.challenge, code: '222222' });
  expect(verified.status).toBe(200);
  return deviceCookie(verified) as string;
}

/** One failed attempt for bob; the keyed source its decision names. */
function attempt(t: ReturnType<typeof setup>, headers: Record<string, string>, cookie?: string) {
  return async () => {
    const req = request(t.app).post('/login').set(headers);
    if (cookie) req.set('Cookie', cookie);
    await req.send({ email: 'bob@example.com', password: 'not-it' });
    const ids = t.decisions.at(-1)?.ids;
    return { ip: ids?.ip, subnet: ids?.subnet };
  };
}

describe('a returning device is keyed from the address req.ip gives, whatever makes it', () => {
  it("follows an app's own req.ip, even when the socket and X-Forwarded-For stay the same", async () => {
    let header = 'x-client-ip';
    const t = setup((app) => {
      // An app that reads a CDN's header instead (its getter, not Express's).
      Object.defineProperty(app.request, 'ip', { configurable: true, get: function (this: Request) { return String(this.headers[header] ?? this.socket.remoteAddress); } });
    });
    const cookie = await enrol(t.app, { 'x-client-ip': '198.51.100.7', 'X-Forwarded-For': '192.0.2.1' });
    const one = { 'x-client-ip': '198.51.100.7', 'X-Forwarded-For': '192.0.2.1' };
    const two = { 'x-client-ip': '203.0.113.8', 'X-Forwarded-For': '192.0.2.1' };
    const expected = { one: await attempt(t, one)(), two: await attempt(t, two)() };
    expect(expected.one.ip).not.toBe(expected.two.ip);
    const seen = [await attempt(t, one, cookie)(), await attempt(t, two, cookie)(), await attempt(t, two, cookie)(), await attempt(t, one, cookie)()];
    expect(seen).toEqual([expected.one, expected.two, expected.two, expected.one]);
    header = 'x-other';
    // Now the getter answers the socket address for the same headers: so must the shield.
    const socket = await attempt(t, one)();
    expect(socket.ip).not.toBe(expected.one.ip);
    expect(await attempt(t, one, cookie)()).toEqual(socket);
  });

  it("follows a 'trust proxy' function whose answer changes (a proxy list refreshed in place)", async () => {
    let trusted = true;
    const t = setup((app) => app.set('trust proxy', () => trusted));
    const via = { 'X-Forwarded-For': '198.51.100.20' };
    const cookie = await enrol(t.app, via);
    const forwarded = await attempt(t, via)();
    expect(await attempt(t, via, cookie)()).toEqual(forwarded);
    expect(await attempt(t, via, cookie)()).toEqual(forwarded);
    trusted = false;
    const socket = await attempt(t, via)();
    expect(socket.ip).not.toBe(forwarded.ip);
    expect(await attempt(t, via, cookie)()).toEqual(socket);
  });

  it("follows a change of the app's 'trust proxy' setting", async () => {
    const t = setup(() => undefined);
    const via = { 'X-Forwarded-For': '198.51.100.30' };
    const cookie = await enrol(t.app, via);
    const forwarded = await attempt(t, via)();
    expect(await attempt(t, via, cookie)()).toEqual(forwarded);
    t.app.set('trust proxy', false);
    const socket = await attempt(t, via)();
    expect(socket.ip).not.toBe(forwarded.ip);
    expect(await attempt(t, via, cookie)()).toEqual(socket);
    t.app.set('trust proxy', 'loopback');
    expect(await attempt(t, via, cookie)()).toEqual(forwarded);
  });
});

describe('clientOrigin', () => {
  /** What clientOrigin and req.ip say of one request to an app set up by `prepare`. */
  async function probe(prepare: (app: express.Express) => void, headers: Record<string, string> = {}) {
    const app = express();
    app.set('trust proxy', 'loopback');
    prepare(app);
    app.get('/', (req, res) => {
      res.json({ origin: clientOrigin(req) ?? null, ip: req.ip });
    });
    return (await request(app).get('/').set(headers)).body as { origin: string | null; ip: string };
  }

  it('names the trust function, the socket address and X-Forwarded-For', async () => {
    const a = await probe(() => undefined, { 'X-Forwarded-For': '198.51.100.1' });
    const b = await probe(() => undefined, { 'X-Forwarded-For': '198.51.100.1' });
    const c = await probe(() => undefined, { 'X-Forwarded-For': '198.51.100.2' });
    expect(a.origin).toMatch(/127\.0\.0\.1\u0000198\.51\.100\.1$/);
    // Two apps, two compiled trust functions: each has its own number.
    expect(a.origin).not.toBe(b.origin);
    expect(c.origin).toMatch(/\u0000198\.51\.100\.2$/);
  });

  it('is undefined wherever the same origin might not be the same req.ip', async () => {
    const own = (app: express.Express) => Object.defineProperty(app.request, 'ip', { configurable: true, get: () => '192.0.2.9' });
    expect((await probe(own)).origin).toBeNull();
    expect((await probe((app) => app.set('trust proxy', () => true))).origin).toBeNull();
    expect((await probe((app) => app.set('trust proxy', true))).origin).toBeNull();
    expect((await probe(() => undefined, { 'X-Forwarded-For': Array.from({ length: 40 }, (_, i) => `198.51.100.${i}`).join(', ') })).origin).toBeNull();
    // A request-level override (set by an earlier middleware) counts too.
    const perRequest = (app: express.Express) =>
      app.use((req, _res, next) => {
        Object.defineProperty(req, 'ip', { value: '192.0.2.10' });
        next();
      });
    expect(await probe(perRequest)).toEqual({ origin: null, ip: '192.0.2.10' });
    // Not an Express request at all (a direct call of the middleware): nothing to go on.
    expect(clientOrigin({ headers: {}, socket: { remoteAddress: '192.0.2.11' }, ip: '192.0.2.11' } as unknown as Request)).toBeUndefined();
  });
});
