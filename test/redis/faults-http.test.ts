import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { totpCode } from '../../examples/exchange-server/totp.js';
import type { Decision } from '../../src/index.js';
import { createRedisStoreFromUrl, type RedisStore } from '../../src/stores/redis.js';
import { type Cast, loginAndEnrol, post, startExchange, testUsers } from '../example/helpers.js';
import { type RedisProcess, startRedis } from '../support/redis.js';

/**
 * The shield over HTTP while the test's own Redis is paused (SIGSTOP), killed (SIGKILL) and
 * restarted, under a steady stream of logins: login never answers 5xx (it falls back to
 * in-process limits), a withdrawal is never allowed while the lock state is unknown (503), no
 * request hangs, and the shield goes back to Redis by itself. Locks survive a kill -9 with
 * appendonly on.
 */

const COMMAND_TIMEOUT_MS = 250;
/** Every response must arrive within this, whatever Redis is doing. */
const RESPONSE_BOUND_MS = 3000;
const ADDRESS = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';

interface Sample {
  readonly kind: 'login' | 'withdrawal';
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: RedisProcess;
let store: RedisStore;
let cast: Cast;
let exchange: ExchangeApp;
let server: Server;
let base: string;
const decisions: Decision[] = [];
const storeEvents: { event: 'degraded' | 'recovered'; at: number }[] = [];

async function send(kind: Sample['kind'], path: string, body: unknown, headers: Record<string, string>): Promise<Sample> {
  const sentAt = Date.now();
  let status: number;
  try {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(RESPONSE_BOUND_MS * 2),
    });
    await res.arrayBuffer();
    status = res.status;
  } catch {
    // Timed out or the connection failed: recorded as status 0 and counted against the test.
    status = 0;
  }
  return { kind, sentAt, doneAt: Date.now(), status };
}

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  store = createRedisStoreFromUrl(redis.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  cast = testUsers();
  exchange = await startExchange(cast, { shieldOptions: { store } });
  exchange.shield!.on('decision', (d) => void decisions.push(d));
  exchange.shield!.on('store.degraded', () => void storeEvents.push({ event: 'degraded', at: Date.now() }));
  exchange.shield!.on('store.recovered', () => void storeEvents.push({ event: 'recovered', at: Date.now() }));
  server = createServer(exchange.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  redis?.resume();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await exchange?.close();
  await store?.close();
  await redis?.stop();
});

describe('HTTP under Redis faults', () => {
  it('login never 5xx, withdrawals 503 while the lock state is unknown, nothing hangs, recovery is automatic', async () => {
    // A legitimate user with a session, who withdraws throughout.
    const carol = await loginAndEnrol(exchange.app, cast.carol, { ip: '198.51.100.7' });
    const withdrawHeaders = { authorization: `Bearer ${carol.token}`, 'x-forwarded-for': '198.51.100.7' };
    const withdraw = () => send('withdrawal', '/wallet/withdrawals', { amount: '0.01', address: ADDRESS }, withdrawHeaders);
    expect((await withdraw()).status).toBe(201);
    // Returning users on known devices, and stuffing from many addresses.
    const known = await Promise.all(
      [cast.frank, cast.grace].map(async (user, i) => ({ user, ...(await loginAndEnrol(exchange.app, user, { ip: `198.51.100.${20 + i}` })), ip: `198.51.100.${20 + i}` })),
    );
    const victims = [cast.leakedAlice, cast.leakedBob, cast.leakedDave, cast.leakedErin];

    const samples: Sample[] = [];
    let running = true;
    let n = 0;
    // Ten clients, each pausing 100 ms between requests: a few hundred logins over the run.
    const worker = async (w: number) => {
      while (running) {
        const i = n++;
        let sample: Sample;
        if (i % 5 === 0) {
          const k = known[i % known.length]!;
          sample = await send('login', '/auth/login', { email: k.user.email, password: k.user.password }, {
            'x-forwarded-for': k.ip,
            ...(k.cookie ? { cookie: k.cookie } : {}),
          });
        } else {
          const victim = victims[i % victims.length]!;
          sample = await send('login', '/auth/login', { email: victim.email, password: `guess-${i}` }, { 'x-forwarded-for': `203.0.113.${w * 10 + (i % 10)}` });
        }
        samples.push(sample);
        await sleep(100);
      }
    };
    const withdrawals: Sample[] = [];
    let withdrawing = true;
    const withdrawer = async () => {
      while (withdrawing) {
        withdrawals.push(await withdraw());
        await sleep(100);
      }
    };
    const load = [...Array.from({ length: 10 }, (_, w) => worker(w)), withdrawer()];

    /** Polls withdrawals until one is allowed again; the time it took. */
    const recovery = async (label: string): Promise<number> => {
      const from = Date.now();
      while (Date.now() - from < 8000) {
        const last = withdrawals.at(-1);
        if (last && last.sentAt > from && last.status === 201) return Date.now() - from;
        await sleep(50);
      }
      throw new Error(`${label}: withdrawals did not recover within 8 s`);
    };

    await sleep(700);
    const pausedAt = Date.now();
    redis.pause();
    await sleep(2000);
    const resumedAt = Date.now();
    redis.resume();
    const afterPause = await recovery('after SIGCONT');
    // The login path probes Redis again within a second of its last failure.
    await sleep(1200);
    const backAfterPauseAt = Date.now();
    await sleep(500);

    const killingAt = Date.now();
    await redis.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(1500);
    const restartingAt = Date.now();
    await redis.restart();
    const restartedAt = Date.now();
    const afterRestart = await recovery('after restart');
    await sleep(1200);
    const settledAt = Date.now();
    await sleep(600);

    running = false;
    withdrawing = false;
    await Promise.all(load);

    const within = (list: Sample[], from: number, to: number) => list.filter((s) => s.sentAt >= from && s.doneAt <= to);
    const byStatus = (list: Sample[]) =>
      list.reduce<Record<number, number>>((acc, s) => {
        acc[s.status] = (acc[s.status] ?? 0) + 1;
        return acc;
      }, {});
    const maxLatency = (list: Sample[]) => Math.max(0, ...list.map((s) => s.doneAt - s.sentAt));
    const logins = samples;
    const report = {
      logins: { total: logins.length, byStatus: byStatus(logins), maxLatencyMs: maxLatency(logins) },
      loginsWhilePaused: { byStatus: byStatus(within(logins, pausedAt, resumedAt)), maxLatencyMs: maxLatency(within(logins, pausedAt, resumedAt)) },
      loginsWhileDown: { byStatus: byStatus(within(logins, killedAt, restartingAt)), maxLatencyMs: maxLatency(within(logins, killedAt, restartingAt)) },
      withdrawals: { total: withdrawals.length, byStatus: byStatus(withdrawals), maxLatencyMs: maxLatency(withdrawals) },
      withdrawalsWhilePaused: byStatus(within(withdrawals, pausedAt, resumedAt)),
      withdrawalsWhileDown: byStatus(within(withdrawals, killedAt, restartingAt)),
      recoveryMs: { afterSigcont: afterPause, afterRestart, restartTookMs: restartedAt - restartingAt },
      storeEvents: { degraded: storeEvents.filter((e) => e.event === 'degraded').length, recovered: storeEvents.filter((e) => e.event === 'recovered').length },
    };
    console.log(`[faults-http] ${JSON.stringify(report)}`);

    // Login: never a 5xx, never a hang, answers of every kind throughout.
    expect(logins.length).toBeGreaterThan(150);
    expect(logins.filter((s) => s.status >= 500 || s.status === 0), JSON.stringify(report.logins)).toEqual([]);
    expect(maxLatency(logins)).toBeLessThan(RESPONSE_BOUND_MS);
    expect(within(logins, pausedAt, resumedAt).length).toBeGreaterThan(20);
    expect(within(logins, killedAt, restartingAt).length).toBeGreaterThan(20);
    // While paused a login waits at most about one command timeout (then the breaker holds).
    expect(maxLatency(within(logins, pausedAt, resumedAt))).toBeLessThan(4 * COMMAND_TIMEOUT_MS + 500);

    // Withdrawals: none allowed while the lock state is unknown; 503, promptly.
    const paused = within(withdrawals, pausedAt, resumedAt);
    const down = within(withdrawals, killedAt, restartingAt);
    expect(paused.length).toBeGreaterThan(3);
    expect(down.length).toBeGreaterThan(3);
    expect([...paused, ...down].filter((s) => s.status !== 503)).toEqual([]);
    expect(maxLatency(withdrawals)).toBeLessThan(RESPONSE_BOUND_MS);
    expect(withdrawals.filter((s) => s.status === 0 || (s.status >= 500 && s.status !== 503))).toEqual([]);

    // Recovery: the shield is back on Redis, not serving from the insurance store.
    expect(afterPause).toBeLessThan(3000);
    expect(afterRestart).toBeLessThan(5000);
    for (const [from, to] of [
      [backAfterPauseAt, killingAt],
      [settledAt, Number.POSITIVE_INFINITY],
    ] as const) {
      const back = decisions.filter((d) => d.kind === 'login' && d.at > from && d.at < to);
      expect(back.length).toBeGreaterThan(5);
      expect(back.filter((d) => d.degraded)).toEqual([]);
    }
    expect(storeEvents.filter((e) => e.event === 'degraded' && e.at >= pausedAt && e.at < resumedAt + 1000).length).toBeGreaterThan(0);
    expect(storeEvents.filter((e) => e.event === 'recovered' && e.at >= resumedAt).length).toBeGreaterThanOrEqual(2);
    expect(storeEvents.at(-1)?.event).toBe('recovered');
  });

  it('every lock survives kill -9 and a restart (appendonly on)', async () => {
    const ip = '198.51.100.50';
    // Not the addresses the previous test stuffed: those are (rightly) hard to log in to now.
    const users = [cast.carol, cast.frank, cast.grace] as const;
    const sessions = await Promise.all(users.map((user) => loginAndEnrol(exchange.app, user, { ip })));
    const ids = users.map((user) => exchange.users.findByEmail(user.email)!.id);
    const shield = exchange.shield!;
    // Recovery from the previous test may still be probing; wait until the admin API answers.
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await shield.locks.status(ids[0]!);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    const before = await Promise.all(ids.map((id, i) => shield.locks.lock(id, { hours: 6 + i, reason: `fraud report ${i}`, actor: 'test:ops' })));
    // And one through the route itself: a password change locks withdrawals for 24 h.
    const change = await post(
      exchange.app,
      '/account/password',
      { currentPassword: cast.grace.password, newPassword: 'a-Fresh-and-l0ng-passphrase-for-grace' },
      { ip, token: sessions[2]!.token, cookie: sessions[2]!.cookie },
    );
    expect(change.status, JSON.stringify(change.body)).toBe(200);
    const graceUntil = (await shield.locks.status(ids[2]!)).until!;
    expect(graceUntil.getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);

    await redis.kill('SIGKILL');
    await redis.restart();

    const deadlineAfter = Date.now() + 5000;
    let after: Awaited<ReturnType<typeof shield.locks.status>>[] | undefined;
    while (!after) {
      try {
        after = await Promise.all(ids.map((id) => shield.locks.status(id)));
      } catch (error) {
        if (Date.now() > deadlineAfter) throw error;
        await sleep(100);
      }
    }
    after.forEach((status, i) => {
      expect(status.locked, `lock ${i}`).toBe(true);
      expect(status.reasons.map((r) => r.detail)).toContain(`fraud report ${i}`);
    });
    expect(after[0]!.until).toEqual(before[0]!.until);
    expect(after[1]!.until).toEqual(before[1]!.until);
    expect(after[2]!.until).toEqual(graceUntil);
    for (const [i, session] of sessions.entries()) {
      const res = await post(exchange.app, '/wallet/withdrawals', { amount: '1', address: ADDRESS }, { ip, token: session.token });
      expect(res.status, `user ${i}: ${JSON.stringify(res.body)}`).toBe(423);
      expect(res.body.error).toBe('withdrawals_locked');
    }
  });

  it('a login whose challenge write meets a Redis that just stopped still answers step-up, not 5xx', async () => {
    // Redis stops at the worst moment: after the decision's read succeeded, as the challenge is
    // written. Under load that moment comes with every outage.
    let armed = true;
    const raced = createRedisStoreFromUrl(redis.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS, prefix: 'as:race:' });
    const stopsOnChallenge = new Proxy(raced, {
      get(target, property) {
        if (property === 'set') {
          return async (key: string, value: string, ttlMs: number) => {
            if (armed && key.startsWith('chal:')) {
              armed = false;
              redis.pause();
            }
            return target.set(key, value, ttlMs);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const own = testUsers();
    const app = await startExchange(own, { shieldOptions: { store: stopsOnChallenge } });
    try {
      const ip = '198.51.100.77';
      // A leaked address on a new device: challenged, whether or not the password is right.
      const first = await post(app.app, '/auth/login', { email: own.leakedAlice.email, password: own.leakedAlice.password }, { ip });
      redis.resume();
      expect(armed, 'the challenge write met the paused Redis').toBe(false);
      expect(first.status, JSON.stringify(first.body)).toBe(401);
      expect(first.body.error).toBe('step_up_required');
      // The challenge lives in the in-process insurance store meanwhile, and can be passed.
      const verify = await post(app.app, '/auth/login/verify', { challenge: first.body.challenge, code: await totpCode(own.leakedAlice.totpSecret) }, { ip });
      expect(verify.status, JSON.stringify(verify.body)).toBe(200);
    } finally {
      redis.resume();
      await app.close();
      await raced.close();
    }
  });
});
