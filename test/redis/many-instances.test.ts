import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate, generateSecret } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCommand } from '../support/resp.js';
import { type RedisProcess, startRedis } from '../support/redis.js';

/**
 * Two real reference-exchange processes (`examples/exchange-server/main.ts`) sharing one Redis,
 * as a load balancer would run them: velocity counts across both, and a lock applied through
 * one is enforced by the other.
 */

const root = resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const SECRET = 'many-instances-secret-0123456789abcdef';
const ADDRESS = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';
const START_TIMEOUT_MS = 30_000;
/** Stop a series here: the shield must have blocked long before. */
const MAX_ATTEMPTS = 40;

interface Server {
  readonly name: string;
  readonly base: string;
  readonly child: ChildProcess;
  output(): string;
}

const users = [
  { email: 'owner@example.test', password: 'Owner-l0ng-and-str0ng-passphrase', totpSecret: generateSecret() },
  { email: 'other@example.test', password: 'Other-l0ng-and-str0ng-passphrase', totpSecret: generateSecret() },
];

let dir: string;
let redis: RedisProcess;
const servers: Server[] = [];
const children = new Set<ChildProcess>();

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
// A worker that dies without running afterAll must not leave servers behind.
process.once('exit', () => killAll('SIGKILL'));

function startServer(name: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', tsxLoader, join(root, 'examples/exchange-server/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      PORT: '0',
      REDIS_URL: redis.url,
      SHIELD_SECRET: SECRET,
      TRUST_PROXY: 'loopback',
      EXAMPLE_USERS: join(dir, 'users.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let log = '';
  const output = () => log;
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${log}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.length > 20_000) log = log.slice(-20_000);
      const match = /\[exchange\] listening on :(\d+) .*store: (\S+?)[,)]/.exec(log);
      if (match) {
        clearTimeout(timer);
        if (match[2] !== 'redis') fail(new Error(`${name} runs on store ${match[2]}:\n${log}`));
        done({ name, base: `http://127.0.0.1:${match[1]}`, child, output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited (${code ?? signal}) while starting:\n${log}`));
    });
  });
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  cookie?: string;
}

async function call(server: Server, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith('as_dev='));
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, ...(cookie ? { cookie } : {}) };
}

/** A login from a new device: answers the step-up with the user's TOTP code on the same server. */
async function loginWithStepUp(server: Server, user: (typeof users)[number], headers: Record<string, string>): Promise<Reply> {
  const first = await call(server, '/auth/login', { email: user.email, password: user.password }, headers);
  if (first.status !== 401 || first.body['error'] !== 'step_up_required') return first;
  const code = await generate({ secret: user.totpSecret, epoch: Math.floor(Date.now() / 1000) });
  return call(server, '/auth/login/verify', { challenge: first.body['challenge'], code }, headers);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'account-shield-instances-'));
  await writeFile(join(dir, 'users.json'), JSON.stringify(users));
  redis = await startRedis();
  try {
    servers.push(...(await Promise.all([startServer('A'), startServer('B')])));
  } catch (error) {
    killAll('SIGKILL');
    throw error;
  }
});

afterAll(async () => {
  const exited = [...children].map((child) => new Promise((done) => child.once('exit', done)));
  killAll('SIGTERM');
  const timer = setTimeout(() => killAll('SIGKILL'), 3000);
  await Promise.all(exited);
  clearTimeout(timer);
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('two example-server processes sharing one Redis', () => {
  it('an attacker alternating between them is stopped at the same attempt as against one', async () => {
    const [a, b] = servers as [Server, Server];
    /** Stuffing from one IP, one address per attempt; the attempt number first answered 429. */
    const series = async (label: string, ip: string, pick: (i: number) => Server): Promise<{ blockedAt: number; statuses: number[] }> => {
      const statuses: number[] = [];
      for (let i = 1; i <= MAX_ATTEMPTS; i++) {
        const reply = await call(pick(i), '/auth/login', { email: `${label}-victim-${i}@example.test`, password: `guess-${i}` }, { 'x-forwarded-for': ip });
        statuses.push(reply.status);
        expect(reply.status, `${label} attempt ${i}: ${JSON.stringify(reply.body)}`).toBeLessThan(500);
        if (reply.status === 429) return { blockedAt: i, statuses };
      }
      return { blockedAt: Number.POSITIVE_INFINITY, statuses };
    };
    // Each series on fresh keys: the site-wide failure wave of one must not help the other.
    // (This is the test's own redis-server.)
    const oneServer = await series('one', '203.0.113.10', () => a);
    await redisCommand(redis.port, ['FLUSHDB']);
    const alternating = await series('alt', '198.18.7.10', (i) => (i % 2 ? a : b));
    console.log(`[many-instances] blocked at attempt ${oneServer.blockedAt} against one server, ${alternating.blockedAt} alternating A/B`);
    expect(oneServer.blockedAt).toBeLessThanOrEqual(25);
    expect(alternating.blockedAt).toBe(oneServer.blockedAt);
    expect(alternating.statuses).toEqual(oneServer.statuses);
    // And B, which saw only half of those attempts, still refuses the next one.
    const next = await call(b, '/auth/login', { email: 'alt-victim-next@example.test', password: 'guess' }, { 'x-forwarded-for': '198.18.7.10' });
    expect(next.status).toBe(429);
  });

  it('a lock applied through A (password change) is enforced by B', async () => {
    const [a, b] = servers as [Server, Server];
    const owner = users[0]!;
    const ip = '192.0.2.44';
    const onA = await loginWithStepUp(a, owner, { 'x-forwarded-for': ip });
    expect(onA.status, JSON.stringify(onA.body)).toBe(200);
    expect(onA.cookie).toBeDefined();
    const cookie = onA.cookie!;
    // Sessions are per process; the owner has one on each server, from the same device.
    const onB = await call(b, '/auth/login', { email: owner.email, password: owner.password }, { 'x-forwarded-for': ip, cookie });
    expect(onB.status, JSON.stringify(onB.body)).toBe(200);
    const withdrawOnB = () =>
      call(b, '/wallet/withdrawals', { amount: '0.1', address: ADDRESS }, { 'x-forwarded-for': ip, authorization: `Bearer ${onB.body['token']}` });
    expect((await withdrawOnB()).status).toBe(201);

    const change = await call(
      a,
      '/account/password',
      { currentPassword: owner.password, newPassword: 'A-completely-new-l0ng-passphrase-2' },
      { 'x-forwarded-for': ip, cookie, authorization: `Bearer ${onA.body['token']}` },
    );
    expect(change.status, JSON.stringify(change.body)).toBe(200);

    const locked = await withdrawOnB();
    expect(locked.status, JSON.stringify(locked.body)).toBe(423);
    expect(locked.body['error']).toBe('withdrawals_locked');
    expect(Date.parse(String(locked.body['lockedUntil'])) - Date.now()).toBeGreaterThan(23 * 3_600_000);

    // The other user is untouched.
    const other = users[1]!;
    const otherOnB = await loginWithStepUp(b, other, { 'x-forwarded-for': ip, cookie });
    expect(otherOnB.status, JSON.stringify(otherOnB.body)).toBe(200);
    const otherWithdrawal = await call(
      b,
      '/wallet/withdrawals',
      { amount: '0.1', address: ADDRESS },
      { 'x-forwarded-for': ip, authorization: `Bearer ${otherOnB.body['token']}` },
    );
    expect(otherWithdrawal.status).toBe(201);
    for (const server of servers) expect(server.output()).not.toMatch(/Error|failed/i);
  });
});
