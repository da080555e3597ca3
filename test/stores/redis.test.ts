import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConfigError, StoreUnavailableError } from '../../src/stores/errors.js';
import { createRedisStoreFromUrl, RedisStore, redisClientOptions } from '../../src/stores/redis.js';
import { type RedisProcess, startRedis } from '../support/redis.js';
import { redisCall } from '../support/resp.js';
import { describeStoreContract, uid } from './store-contract.js';

let redis: RedisProcess;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

// A generous timeout: the contract is about semantics, and CI machines stall.
describeStoreContract('RedisStore (single server)', () => new RedisStore({ url: redis.url, commandTimeoutMs: 2000 }));

describe('RedisStore specifics', () => {
  it('is named redis and namespaces every key under the versioned prefix', async () => {
    const store = createRedisStoreFromUrl(redis.url, { commandTimeoutMs: 2000 });
    try {
      expect(store.name).toBe('redis');
      expect(store.prefix).toBe('as:v1:');
      const account = uid();
      await store.add([{ spec: { name: 'fail_acct', points: 5, durationSec: 60 }, key: `{${account}}`, points: 1 }]);
      await store.set(`dev:{${account}}:d1`, '1', 60_000);
      const keys = await redisCall(redis.port, 'KEYS', `*${account}*`);
      expect(new Set(keys as string[])).toEqual(new Set([`as:v1:rl:fail_acct:{${account}}`, `as:v1:dev:{${account}}:d1`]));
      // The counter is stored the way rate-limiter-flexible stores it: a plain integer string.
      expect(await redisCall(redis.port, 'GET', `as:v1:rl:fail_acct:{${account}}`)).toBe('1');
    } finally {
      await store.close();
    }
  });

  it('uses a custom prefix', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'other:v2:', commandTimeoutMs: 2000 });
    try {
      const key = uid();
      await store.set(key, 'x', 60_000);
      expect(await redisCall(redis.port, 'GET', `other:v2:${key}`)).toBe('x');
    } finally {
      await store.close();
    }
  });

  it('leaves a client it was given open, and closes one it made', async () => {
    const client = new Redis(redis.port, '127.0.0.1', redisClientOptions());
    const given = new RedisStore({ client });
    await given.set(uid(), 'x', 1000);
    await given.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();

    const owned = new RedisStore({ url: redis.url });
    await owned.set(uid(), 'x', 1000);
    await owned.close();
    await expect(owned.take(uid())).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('waits for the first connection instead of failing calls made right after construction', async () => {
    const store = new RedisStore({ url: redis.url });
    try {
      expect(await store.read({ counters: [], keys: [uid()] })).toEqual({ counters: [], values: [undefined] });
    } finally {
      await store.close();
    }
  });

  it('rejects a corrupt lock as unavailable (withdrawals fail closed), never as "no lock"', async () => {
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: 2000 });
    try {
      const key = `lock:{${uid()}}`;
      await redisCall(redis.port, 'SET', `as:v1:${key}`, 'not json', 'PX', 60_000);
      await expect(store.getLock(key, Date.now())).rejects.toMatchObject({ name: 'StoreUnavailableError', reason: 'corrupt' });
      const now = Date.now();
      await expect(store.extendLock(key, { kind: 'x', at: now, until: now + 1000 }, now, 5)).rejects.toMatchObject({
        reason: 'corrupt',
      });
      // An admin can still clear it.
      expect(await store.clearLock(key, now)).toBeUndefined();
      expect(await redisCall(redis.port, 'EXISTS', `as:v1:${key}`)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('validates its options with named errors', () => {
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(attempt(() => new RedisStore({}))).toMatchObject({ name: 'StoreConfigError', code: 'REDIS_OPTIONS_MISSING' });
    expect(attempt(() => new RedisStore({ url: 'http://localhost' }))).toMatchObject({ code: 'REDIS_URL_SCHEME' });
    expect(attempt(() => new RedisStore({ url: redis.url, prefix: 'as:{v1}:' }))).toMatchObject({
      code: 'REDIS_PREFIX_INVALID',
    });
    expect(attempt(() => new RedisStore({ url: redis.url, commandTimeoutMs: 0 }))).toMatchObject({
      code: 'REDIS_TIMEOUT_INVALID',
    });
    // Pointed at the test's own server: nothing here may ever reach the shared Redis on 6379.
    const client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, keyPrefix: 'x:' });
    expect(attempt(() => new RedisStore({ client }))).toMatchObject({ code: 'REDIS_OPTIONS_CONFLICT' });
    expect(attempt(() => new RedisStore({ client, url: redis.url }))).toBeInstanceOf(StoreConfigError);
    client.disconnect();
  });

  it('refuses windows Redis cannot keep in whole seconds', async () => {
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: 2000 });
    try {
      await expect(store.add([{ spec: { name: 'half', points: 1, durationSec: 1.5 }, key: 'k', points: 1 }])).rejects.toMatchObject({
        name: 'StoreConfigError',
        code: 'COUNTER_SPEC_INVALID',
      });
    } finally {
      await store.close();
    }
  });

});
