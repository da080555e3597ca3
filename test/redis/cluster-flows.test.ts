import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import type { Decision } from '../../src/index.js';
import { createRedisStoreFromUrl, type RedisStore } from '../../src/stores/redis.js';
import { type Cast, code, deviceCookie, get, loginAndEnrol, post, SECRET, startExchange, testUsers } from '../example/helpers.js';
import { type RedisCluster, startRedisCluster } from '../support/redis.js';

/**
 * The login, step-up and lock flows on a real three-master Redis Cluster, through two
 * instances of the reference exchange that share it (same secret, same users): devices,
 * challenges and locks created through one are seen by the other.
 */

const ADDRESS = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';
const root = resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

let cluster: RedisCluster;
let cast: Cast;
const stores: RedisStore[] = [];
let a: ExchangeApp;
let b: ExchangeApp;
const decisions: { instance: 'a' | 'b'; decision: Decision }[] = [];

async function instance(name: 'a' | 'b'): Promise<ExchangeApp> {
  const store = createRedisStoreFromUrl(cluster.url);
  stores.push(store);
  const exchange = await startExchange(cast, { shieldOptions: { store } });
  exchange.shield!.on('decision', (decision) => void decisions.push({ instance: name, decision }));
  return exchange;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  cast = testUsers();
  [a, b] = await Promise.all([instance('a'), instance('b')]);
  expect(stores.every((store) => store.name === 'redis-cluster')).toBe(true);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all(stores.map((store) => store.close()));
  await cluster?.stop();
});

describe('flows on a 3-master Redis Cluster, across two instances', () => {
  it('a device that passed step-up through A is known to B', async () => {
    const ip = '198.51.100.10';
    const first = await loginAndEnrol(a.app, cast.carol, { ip });
    expect(first.challenged).toBe(true);
    const cookie = first.cookie;
    expect(cookie).toBeDefined();

    const again = await post(b.app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, { ip, cookie });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const last = decisions.filter((d) => d.instance === 'b' && d.decision.kind === 'login').at(-1)!.decision;
    expect(last.reasons.map((r) => r.signal)).toContain('device.known');
    expect(last.degraded).toBeUndefined();
  });

  it('a step-up challenge issued by A is passed on B, once', async () => {
    const ip = '198.51.100.11';
    const user = cast.leakedAlice;
    // A leaked address from a new device: step-up.
    const login = await post(a.app, '/auth/login', { email: user.email, password: user.password }, { ip });
    expect(login.status).toBe(401);
    expect(login.body.error).toBe('step_up_required');

    const wrong = await post(b.app, '/auth/login/verify', { challenge: login.body.challenge, code: '000000' }, { ip });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_code');

    const verify = await post(b.app, '/auth/login/verify', { challenge: login.body.challenge, code: await code(user) }, { ip });
    expect(verify.status, JSON.stringify(verify.body)).toBe(200);
    expect(verify.body.token).toEqual(expect.any(String));
    const cookie = deviceCookie(verify);
    expect(cookie).toBeDefined();

    // Single use across instances.
    const replay = await post(a.app, '/auth/login/verify', { challenge: login.body.challenge, code: await code(user) }, { ip });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_code');

    // The device B enrolled is known to A: no step-up this time.
    const back = await post(a.app, '/auth/login', { email: user.email, password: user.password }, { ip, cookie });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
  });

  it('a password change through A locks withdrawals through B; an admin unlock frees both', async () => {
    const ip = '198.51.100.12';
    const user = cast.frank;
    const onA = await loginAndEnrol(a.app, user, { ip });
    const cookie = onA.cookie;
    // Sessions belong to each instance; the lock is what they share.
    const onB = await post(b.app, '/auth/login', { email: user.email, password: user.password }, { ip, cookie });
    expect(onB.status, JSON.stringify(onB.body)).toBe(200);
    const tokenA = onA.token;
    const tokenB = onB.body.token as string;
    const withdraw = (app: ExchangeApp, token: string) => post(app.app, '/wallet/withdrawals', { amount: '0.5', address: ADDRESS }, { ip, token });
    expect((await withdraw(b, tokenB)).status).toBe(201);

    const change = await post(
      a.app,
      '/account/password',
      { currentPassword: user.password, newPassword: 'Frank-has-a-n3w-and-long-passphrase' },
      { ip, cookie, token: tokenA },
    );
    expect(change.status, JSON.stringify(change.body)).toBe(200);

    const locked = await withdraw(b, tokenB);
    expect(locked.status, JSON.stringify(locked.body)).toBe(423);
    expect(locked.body.error).toBe('withdrawals_locked');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(23 * 3600);
    const security = await get(b.app, '/account/security', { ip, token: tokenB });
    expect(security.status).toBe(200);
    expect(Date.parse(security.body.withdrawalsLockedUntil) - Date.now()).toBeGreaterThan(23 * 3_600_000);

    // The operator's CLI sees the same lock through the Cluster seed list.
    const userId = b.users.findByEmail(user.email)!.id;
    expect(a.users.findByEmail(user.email)!.id).toBe(userId);
    const status = await cli(['status', userId, '--redis', cluster.url, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ userId, locked: true, reasons: [expect.objectContaining({ kind: 'password' })] });

    const unlocked = await b.shield!.locks.unlock(userId, { reason: 'owner confirmed by phone', actor: 'test:ops' });
    expect(unlocked.locked).toBe(false);
    expect((await withdraw(b, tokenB)).status).toBe(201);
    expect((await withdraw(a, tokenA)).status).toBe(201);
    expect((await a.shield!.locks.status(userId)).locked).toBe(false);
  });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], SHIELD_SECRET: SECRET, USER: 'tester' };
  return new Promise((done) => {
    execFile(process.execPath, ['--import', tsxLoader, join(root, 'src/cli/main.ts'), ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}
