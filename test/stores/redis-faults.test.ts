import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/stores/errors.js';
import { RedisStore } from '../../src/stores/redis.js';
import type { CounterSpec, Store } from '../../src/stores/store.js';
import { freePort, type RedisCluster, type RedisProcess, startRedis, startRedisCluster, waitFor } from '../support/redis.js';
import { uid } from './store-contract.js';

/**
 * A paused, killed or restarted Redis must turn into quick, typed failures and then heal by
 * itself. Timing bounds are deliberately loose (well under 2 s for a 250 ms timeout): the point
 * is "bounded", not a precise latency.
 */

const COMMAND_TIMEOUT_MS = 250;
const BOUND_MS = 2000;
const spec: CounterSpec = { name: 'fault_ip', points: 10, durationSec: 60 };

/** Every kind of call the shield makes, so none of them can hang. */
function everyCall(store: Store): Record<string, () => Promise<unknown>> {
  const now = Date.now();
  return {
    read: () => store.read({ counters: [{ spec, key: uid() }], keys: [uid()] }),
    add: () => store.add([{ spec, key: uid(), points: 1 }]),
    reset: () => store.reset([{ spec, key: uid() }]),
    set: () => store.set(uid(), 'x', 60_000),
    take: () => store.take(uid()),
    delete: () => store.delete(uid()),
    increment: () => store.increment(uid(), 60_000),
    getLock: () => store.getLock(uid(), now),
    extendLock: () => store.extendLock(uid(), { kind: 'k', at: now, until: now + 60_000 }, now, 5),
    clearLock: () => store.clearLock(uid(), now),
  };
}

async function expectAllUnavailable(store: Store, reasons: readonly string[]): Promise<void> {
  await Promise.all(
    Object.entries(everyCall(store)).map(async ([operation, call]) => {
      const started = Date.now();
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      expect(error, operation).toBeInstanceOf(StoreUnavailableError);
      expect(reasons, `${operation}: ${(error as Error).message}`).toContain((error as StoreUnavailableError).reason);
      expect(elapsed, operation).toBeLessThan(BOUND_MS);
    }),
  );
}

async function waitUntilHealthy(store: Store): Promise<void> {
  await waitFor(
    'the store to recover',
    async () => {
      await store.set(uid(), 'x', 1000);
      return true;
    },
    10_000,
    50,
  );
}

describe('RedisStore under faults', () => {
  let redis: RedisProcess;
  let store: RedisStore;

  beforeAll(async () => {
    redis = await startRedis();
    store = new RedisStore({ url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await waitUntilHealthy(store);
  });

  afterEach(() => {
    redis?.resume();
  });

  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it('a paused server (SIGSTOP) makes every call reject with a timeout, then recovers on SIGCONT', async () => {
    redis.pause();
    await expectAllUnavailable(store, ['timeout']);
    redis.resume();
    await waitUntilHealthy(store);
    const key = uid();
    await store.set(key, 'after-pause', 60_000);
    expect((await store.read({ counters: [], keys: [key] })).values).toEqual(['after-pause']);
  });

  it('a killed server makes calls reject fast; a restarted one is used again without intervention', async () => {
    await redis.kill('SIGKILL');
    await expectAllUnavailable(store, ['disconnected', 'timeout']);
    // Still down a little later, still fast.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await expect(store.take(uid())).rejects.toMatchObject({ reason: 'disconnected' });
    expect(Date.now() - started).toBeLessThan(500);

    await redis.restart();
    await waitUntilHealthy(store);
    const [value] = await store.add([{ spec, key: uid(), points: 2 }]);
    expect(value?.consumed).toBe(2);
  });
});

describe('RedisStore durability', () => {
  it('with appendonly on, a lock survives kill -9 and a restart', async () => {
    const redis = await startRedis({ appendonly: true });
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    try {
      const key = `lock:{${uid()}}`;
      const now = Date.now();
      const lock = await store.extendLock(key, { kind: 'password_changed', at: now, until: now + 86_400_000 }, now, 10);
      await redis.kill('SIGKILL');
      await redis.restart();
      await waitUntilHealthy(store);
      expect(await store.getLock(key, Date.now())).toEqual(lock);
    } finally {
      await store.close();
      await redis.stop();
    }
  });
});

describe('RedisStore without a server', () => {
  it('calls made while Redis is down from the start fail fast instead of hanging', async () => {
    const port = await freePort();
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    try {
      await expectAllUnavailable(store, ['disconnected']);
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore on a Cluster under faults', () => {
  let cluster: RedisCluster;
  let store: RedisStore;
  const keys = Array.from({ length: 30 }, () => uid());
  // 30 random keys land on all three masters (a miss has probability ~1e-5).
  const readAll = () => store.read({ counters: keys.map((key) => ({ spec, key })), keys });

  beforeAll(async () => {
    cluster = await startRedisCluster();
    store = new RedisStore({ url: cluster.urls, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await waitFor('the cluster store to answer', async () => {
      await readAll();
      return true;
    });
  });

  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('a paused node times out calls that need it, and not the others', async () => {
    const node = cluster.nodes[1]!;
    node.pause();
    try {
      const started = Date.now();
      await expect(readAll()).rejects.toMatchObject({ name: 'StoreUnavailableError', reason: 'timeout' });
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
    } finally {
      node.resume();
    }
    await readAll();
  });

  it('a killed node makes calls fail within the bound; its restart heals the store', async () => {
    const node = cluster.nodes[2]!;
    await node.kill('SIGKILL');
    for (const call of [readAll, () => store.add(keys.map((key) => ({ spec, key, points: 1 })))]) {
      const started = Date.now();
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(['disconnected', 'timeout']).toContain((error as StoreUnavailableError).reason);
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
    }
    await node.restart();
    await waitFor(
      'the cluster store to recover',
      async () => {
        await readAll();
        return true;
      },
      20_000,
      100,
    );
  });
});
