import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterClientOptions, keySlot, RedisStore, redisClientOptions } from '../../src/stores/redis.js';
import type { CounterRef, CounterSpec } from '../../src/stores/store.js';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../support/redis.js';
import { commandCalls, redisCall } from '../support/resp.js';
import { FlightCounter, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { uid } from './store-contract.js';

/**
 * The hot path must cost one network round trip per call, and few commands: `read` of N counters
 * and M keys is one script call (one per slot group on a Cluster, the calls for one node as one
 * pipeline, all nodes at once), and `add` is one script call for all its increments likewise.
 * Round trips are counted by a proxy between the client and Redis (see FlightCounter); commands
 * by INFO commandstats on the test's own servers (which lists a script's inner calls too).
 */

const families: CounterSpec[] = [
  { name: 'rt_ip', points: 20, durationSec: 900 },
  { name: 'rt_subnet', points: 60, durationSec: 900 },
  { name: 'rt_ipacct', points: 5, durationSec: 900 },
  { name: 'rt_acct', points: 10, durationSec: 3600 },
];

/**
 * A decision's worth of reads: 8 counters over 4 families and 5 plain keys, some hash-tagged.
 * The untagged counters are picked to fall in each third of the slot space, which is how
 * `redis-cli --cluster create` splits slots over three masters, so every node is involved.
 */
function decision(): { counters: CounterRef[]; keys: string[] } {
  const account = uid();
  const counters = families.flatMap((spec, i) => [
    { spec, key: `{${account}}:${uid()}` },
    { spec, key: keyInThird(spec, i % 3) },
  ]);
  const keys = [`dev:{${account}}:${uid()}`, `pwq:{${account}}`, `chg:{${account}}`, `lock:{${account}}`, uid()];
  return { counters, keys };
}

/** Distinct hash slots among the full keys of a call: the script calls a Cluster store must make. */
function slotsOf(counters: readonly CounterRef[], keys: readonly string[] = []): number {
  return new Set([...counters.map(({ spec, key }) => keySlot(`as:v1:rl:${spec.name}:${key}`)), ...keys.map((key) => keySlot(`as:v1:${key}`))]).size;
}

function keyInThird(spec: CounterSpec, third: number): string {
  for (;;) {
    const key = uid();
    const slot = keySlot(`as:v1:rl:${spec.name}:${key}`);
    if ((slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2) === third) return key;
  }
}

async function commandDelta(ports: number[], work: () => Promise<unknown>): Promise<Record<string, number>> {
  const sum = async () => {
    const total: Record<string, number> = {};
    for (const calls of await Promise.all(ports.map(commandCalls))) {
      for (const [name, count] of Object.entries(calls)) total[name] = (total[name] ?? 0) + count;
    }
    return total;
  };
  const before = await sum();
  await work();
  const after = await sum();
  const delta: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    const d = count - (before[name] ?? 0);
    if (d > 0 && name !== 'info') delta[name] = d;
  }
  return delta;
}

function roundTripSuite(label: string, setup: () => Promise<{ store: RedisStore; counter: FlightCounter; ports: number[]; nodes: number }>) {
  describe(label, () => {
    let store: RedisStore;
    let counter: FlightCounter;
    let ports: number[];
    let nodes: number;

    beforeAll(async () => {
      ({ store, counter, ports, nodes } = await setup());
      // Warm up: connections, slot map, scripts.
      const warm = decision();
      await store.read(warm);
      await store.add(warm.counters.map((ref) => ({ ...ref, points: 1 })));
      await store.increment(uid(), 1000);
      await store.extendLock(`lock:{${uid()}}`, { kind: 'w', at: Date.now(), until: Date.now() + 1000 }, Date.now(), 3);
    });

    const flightsOf = async (work: () => Promise<unknown>) => {
      counter.reset();
      await work();
      return { flights: counter.flights, nodesReached: counter.chunksByProxy.size };
    };

    it('the proxy counts sequential calls as separate round trips (control)', async () => {
      const result = await flightsOf(async () => {
        await store.set(uid(), 'a', 1000);
        await store.set(uid(), 'b', 1000);
        await store.set(uid(), 'c', 1000);
      });
      expect(result.flights).toBe(3);
    });

    it('read() of 8 counters + 5 keys is one round trip: one script call per slot group, one write per node', async () => {
      const request = decision();
      await store.add(request.counters.slice(0, 3).map((ref) => ({ ...ref, points: 1 })));
      let result = { flights: 0, nodesReached: 0 };
      let writes: number[] = [];
      const delta = await commandDelta(ports, async () => {
        result = await flightsOf(() => store.read(request));
        writes = [...counter.chunksByProxy.values()];
      });
      expect(result.flights).toBe(1);
      expect(result.nodesReached).toBe(nodes);
      expect(writes).toEqual(writes.map(() => 1));
      const calls = nodes === 1 ? 1 : slotsOf(request.counters, request.keys);
      // Inside the scripts: a GET per entry, and a PTTL only for the three counters that exist.
      expect(delta).toEqual({ evalsha: calls, get: 8 + 5, pttl: 3 });
    });

    it('add() of 8 counters is one round trip: one script call per slot group for all of them', async () => {
      const { counters } = decision();
      let result = { flights: 0, nodesReached: 0 };
      const delta = await commandDelta(ports, async () => {
        result = await flightsOf(() => store.add(counters.map((ref) => ({ ...ref, points: 1 }))));
      });
      expect(result.flights).toBe(1);
      expect(result.nodesReached).toBe(nodes);
      expect((delta['evalsha'] ?? 0) + (delta['eval'] ?? 0)).toBe(nodes === 1 ? 1 : slotsOf(counters));
      // rate-limiter-flexible's upsert, per counter, inside the script.
      expect(delta).toMatchObject({ set: 8, incrby: 8, pttl: 8 });
    });

    it('every other call is one round trip', async () => {
      const now = Date.now();
      const key = uid();
      const lock = `lock:{${uid()}}`;
      const calls: Record<string, () => Promise<unknown>> = {
        reset: () => store.reset(decision().counters),
        set: () => store.set(key, 'v', 60_000),
        take: () => store.take(key),
        delete: () => store.delete(key),
        increment: () => store.increment(key, 60_000),
        extendLock: () => store.extendLock(lock, { kind: 'k', at: now, until: now + 60_000 }, now, 5),
        getLock: () => store.getLock(lock, now),
        clearLock: () => store.clearLock(lock, now),
      };
      for (const [name, call] of Object.entries(calls)) {
        expect((await flightsOf(call)).flights, name).toBe(1);
      }
    });

    it('a script the server forgot (SCRIPT FLUSH, a restart) is sent again (one round trip more, once): the call still succeeds', async () => {
      for (const port of ports) await redisCall(port, 'SCRIPT', 'FLUSH');
      const request = decision();
      const added = await store.add(request.counters.map((ref) => ({ ...ref, points: 2 })));
      expect(added.map((c) => c.consumed)).toEqual(request.counters.map(() => 2));
      for (const port of ports) await redisCall(port, 'SCRIPT', 'FLUSH');
      const { counters, values } = await store.read(request);
      expect(counters.map((c) => c.consumed)).toEqual(request.counters.map(() => 2));
      expect(values).toEqual(request.keys.map(() => undefined));
    });

    afterAll(async () => {
      await store?.close();
    });
  });
}

describe('RedisStore round trips', () => {
  const cleanup: (() => Promise<void>)[] = [];
  let redis: RedisProcess;
  let cluster: RedisCluster;

  beforeAll(async () => {
    [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
    cleanup.push(() => redis.stop(), () => cluster.stop());
  });

  afterAll(async () => {
    await Promise.all(cleanup.map((fn) => fn()));
  });

  roundTripSuite('single server', async () => {
    const counter = new FlightCounter();
    const proxy = await startTcpProxy(redis.port, counter);
    const client = new Redis(proxy.port, '127.0.0.1', redisClientOptions());
    cleanup.unshift(async () => {
      client.disconnect();
      await proxy.close();
    });
    // A generous deadline: the proxy delays every write, and CI machines stall.
    return { store: new RedisStore({ client, commandTimeoutMs: 2000 }), counter, ports: [redis.port], nodes: 1 };
  });

  roundTripSuite('3-node Cluster', async () => {
    const counter = new FlightCounter();
    const proxies: TcpProxy[] = await Promise.all(
      cluster.nodes.map((node) => startTcpProxy(node.port, counter, { name: String(node.port) })),
    );
    // The nodes announce their real ports; natMap sends ioredis through the proxies instead.
    const natMap = Object.fromEntries(
      cluster.nodes.map((node, i) => [`127.0.0.1:${node.port}`, { host: '127.0.0.1', port: proxies[i]!.port }]),
    );
    const client = new Cluster(
      proxies.map((proxy) => ({ host: '127.0.0.1', port: proxy.port })),
      // No periodic slot refresh: it would add traffic the counter could attribute to a call.
      { ...clusterClientOptions(), natMap, slotsRefreshInterval: 0 },
    );
    cleanup.unshift(async () => {
      client.disconnect();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    });
    return { store: new RedisStore({ client, commandTimeoutMs: 2000 }), counter, ports: cluster.nodes.map((node) => node.port), nodes: 3 };
  });
});
