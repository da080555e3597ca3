import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import type { CounterSpec } from '../../src/stores/store.js';
import { type RedisProcess, startRedis } from '../support/redis.js';
import { redisCall } from '../support/resp.js';
import { sleep, uid } from './store-contract.js';

/** Nothing the store writes may live forever: every key carries a TTL, locks end with their lock. */

let redis: RedisProcess;
let store: RedisStore;

beforeAll(async () => {
  redis = await startRedis();
  store = new RedisStore({ url: redis.url, commandTimeoutMs: 2000 });
});

afterAll(async () => {
  await store?.close();
  await redis?.stop();
});

async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await redisCall(redis.port, 'SCAN', cursor, 'COUNT', 100)) as [string, string[]];
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

const pttl = async (key: string) => (await redisCall(redis.port, 'PTTL', key)) as number;

describe('RedisStore key lifetimes', () => {
  it('after a realistic mix of operations every key has a TTL no longer than it was given', async () => {
    const specs: CounterSpec[] = [
      { name: 'fail_ip', points: 20, durationSec: 900 },
      { name: 'fail_ipacct', points: 5, durationSec: 900 },
      { name: 'accts_ip', points: 10, durationSec: 3600 },
      { name: 'wave_fail', points: 30, durationSec: 60 },
    ];
    const longestMs = 30 * 86_400_000;
    const now = Date.now();
    for (let i = 0; i < 40; i++) {
      const account = uid();
      const ip = uid();
      await store.read({
        counters: specs.map((spec) => ({ spec, key: spec.name === 'fail_ipacct' ? `{${account}}:${ip}` : ip })),
        keys: [`dev:{${account}}:${uid()}`, `pwq:{${account}}`, `chg:{${account}}`],
      });
      await store.add(specs.map((spec) => ({ spec, key: spec.name === 'fail_ipacct' ? `{${account}}:${ip}` : ip, points: 1 })));
      if (i % 4 === 0) await store.reset([{ spec: specs[1]!, key: `{${account}}:${ip}` }]);
      await store.set(`dev:{${account}}:${uid()}`, '1', longestMs);
      await store.set(`pwq:{${account}}`, 'weak', 86_400_000);
      const challenge = uid();
      await store.set(`chal:{${challenge}}`, JSON.stringify({ account }), 300_000);
      await store.increment(`chal:{${challenge}}:n`, 300_000);
      await store.increment(`chal:{${challenge}}:n`, 300_000);
      if (i % 2 === 0) await store.take(`chal:{${challenge}}`);
      if (i % 3 === 0) {
        await store.set(`chg:{${account}}`, String(now), 86_400_000);
        await store.extendLock(`lock:{${account}}`, { kind: 'password_changed', at: now, until: now + 86_400_000 }, now, 10);
        await store.extendLock(`lock:{${account}}`, { kind: 'email_changed', at: now, until: now + 6 * 3_600_000 }, now, 10);
      }
      if (i % 9 === 0) await store.clearLock(`lock:{${account}}`, now);
    }

    const keys = await allKeys();
    expect(keys.length).toBeGreaterThan(200);
    for (const key of keys) {
      const ttl = await pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(longestMs);
    }
  });

  it('a lock key expires when the lock does, and moves only forward', async () => {
    const key = `lock:{${uid()}}`;
    const stored = `as:v1:${key}`;
    const now = Date.now();
    const pexpiretime = async () => (await redisCall(redis.port, 'PEXPIRETIME', stored)) as number;

    await store.extendLock(key, { kind: 'a', at: now, until: now + 3_600_000 }, now, 10);
    const first = await pexpiretime();
    expect(first).toBeGreaterThanOrEqual(now + 3_600_000);
    expect(first - (now + 3_600_000)).toBeLessThan(1000);

    // A shorter cause does not pull the expiry in. (It may move by the milliseconds that passed:
    // the key expires at the later of `until` and `until - now` from the server's own clock.)
    await store.extendLock(key, { kind: 'b', at: now, until: now + 60_000 }, now, 10);
    const unchanged = await pexpiretime();
    expect(unchanged).toBeGreaterThanOrEqual(first);
    expect(unchanged - first).toBeLessThan(1000);

    await store.extendLock(key, { kind: 'c', at: now, until: now + 7_200_000 }, now, 10);
    const later = await pexpiretime();
    expect(later).toBeGreaterThanOrEqual(now + 7_200_000);
    expect(later - (now + 7_200_000)).toBeLessThan(1000);
  });

  it('a Redis clock running ahead of the application cannot end a lock early', async () => {
    const key = `lock:{${uid()}}`;
    // The caller's clock is 10 minutes behind the server's.
    const callerNow = Date.now() - 600_000;
    await store.extendLock(key, { kind: 'a', at: callerNow, until: callerNow + 3_600_000 }, callerNow, 10);
    const expiresAt = (await redisCall(redis.port, 'PEXPIRETIME', `as:v1:${key}`)) as number;
    expect(expiresAt).toBeGreaterThanOrEqual(Date.now() + 3_600_000 - 1000);
  });

  it('a lock whose until has already passed leaves no key behind', async () => {
    const key = `lock:{${uid()}}`;
    const now = Date.now();
    const lock = await store.extendLock(key, { kind: 'late', at: now - 10_000, until: now - 1 }, now, 10);
    expect(lock.until).toBe(now - 1);
    expect(await redisCall(redis.port, 'EXISTS', `as:v1:${key}`)).toBe(0);
    expect(await store.getLock(key, now)).toBeUndefined();
  });

  it('increment sets its TTL on creation only', async () => {
    const key = uid();
    await store.increment(key, 60_000);
    const first = await pttl(`as:v1:${key}`);
    await sleep(60);
    await store.increment(key, 60_000);
    expect(await pttl(`as:v1:${key}`)).toBeLessThan(first);
  });

  it('increment gives a TTL to a counter that somehow has none', async () => {
    const key = uid();
    await redisCall(redis.port, 'SET', `as:v1:${key}`, '5');
    expect(await store.increment(key, 60_000)).toBe(6);
    expect(await pttl(`as:v1:${key}`)).toBeGreaterThan(0);
  });

  it('read creates nothing', async () => {
    const before = (await redisCall(redis.port, 'DBSIZE')) as number;
    await store.read({
      counters: [{ spec: { name: 'fail_ip', points: 20, durationSec: 900 }, key: uid() }],
      keys: [uid(), `lock:{${uid()}}`],
    });
    expect(await redisCall(redis.port, 'DBSIZE')).toBe(before);
  });
});
