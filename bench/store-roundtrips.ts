/**
 * Commands and network round trips per store call, and read latency of the Redis stores
 * relative to the memory store, measured in the same run (so the ratio, not the absolute
 * numbers, is what carries across machines).
 *
 *   npx tsx bench/store-roundtrips.ts [--iterations 2000] [--no-cluster]
 *
 * Starts its own redis-server processes on free ports and stops them afterwards.
 */
import { Cluster, Redis } from 'ioredis';
import { MemoryStore } from '../src/stores/memory.js';
import { clusterClientOptions, RedisStore, redisClientOptions } from '../src/stores/redis.js';
import type { CounterRef, CounterSpec, Store } from '../src/stores/store.js';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../test/support/redis.js';
import { commandCalls } from '../test/support/resp.js';
import { FlightCounter, startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy.js';

const args = process.argv.slice(2);
const iterations = Number(args[args.indexOf('--iterations') + 1]) || 2000;
const withCluster = !args.includes('--no-cluster');

const families: CounterSpec[] = [
  { name: 'b_ip', points: 20, durationSec: 900 },
  { name: 'b_subnet', points: 60, durationSec: 900 },
  { name: 'b_ipacct', points: 5, durationSec: 900 },
  { name: 'b_accts_ip', points: 10, durationSec: 3600 },
  { name: 'b_acct', points: 10, durationSec: 3600 },
  { name: 'b_wave', points: 30, durationSec: 60 },
];

let sequence = 0;
function decision(): { counters: CounterRef[]; keys: string[] } {
  const id = (sequence++).toString(36);
  const account = `acct${id}`;
  return {
    counters: families.map((spec, i) => ({ spec, key: i % 2 ? `{${account}}:ip${id}` : `ip${id}` })),
    keys: [`dev:{${account}}:d${id}`, `pwq:{${account}}`, `chg:{${account}}`, `lock:{${account}}`],
  };
}

async function commandsDuring(ports: number[], work: () => Promise<unknown>): Promise<number> {
  const total = async () => {
    let sum = 0;
    for (const calls of await Promise.all(ports.map(commandCalls))) {
      for (const [name, count] of Object.entries(calls)) if (name !== 'info') sum += count;
    }
    return sum;
  };
  const before = await total();
  await work();
  return (await total()) - before;
}

async function latency(store: Store): Promise<{ p50: number; p99: number; mean: number }> {
  const requests = Array.from({ length: iterations }, decision);
  for (const request of requests.slice(0, 200)) await store.read(request);
  const samples: number[] = [];
  for (const request of requests) {
    const started = process.hrtime.bigint();
    await store.read(request);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

interface Target {
  label: string;
  /** Store behind a round-trip-counting proxy. */
  counted: RedisStore;
  counter: FlightCounter;
  /** Store on a direct connection, for latency. */
  direct: RedisStore;
  ports: number[];
  close(): Promise<void>;
}

async function singleTarget(redis: RedisProcess): Promise<Target> {
  const counter = new FlightCounter();
  const proxy = await startTcpProxy(redis.port, counter);
  const client = new Redis(proxy.port, '127.0.0.1', redisClientOptions(2000));
  const counted = new RedisStore({ client });
  const direct = new RedisStore({ url: redis.url, commandTimeoutMs: 2000 });
  return {
    label: 'redis',
    counted,
    counter,
    direct,
    ports: [redis.port],
    close: async () => {
      await Promise.all([counted.close(), direct.close()]);
      client.disconnect();
      await proxy.close();
    },
  };
}

async function clusterTarget(cluster: RedisCluster): Promise<Target> {
  const counter = new FlightCounter();
  const proxies: TcpProxy[] = await Promise.all(cluster.nodes.map((node) => startTcpProxy(node.port, counter)));
  const natMap = Object.fromEntries(
    cluster.nodes.map((node, i) => [`127.0.0.1:${node.port}`, { host: '127.0.0.1', port: proxies[i]!.port }]),
  );
  const client = new Cluster(
    proxies.map((proxy) => ({ host: '127.0.0.1', port: proxy.port })),
    { ...clusterClientOptions(2000), natMap, slotsRefreshInterval: 0 },
  );
  const counted = new RedisStore({ client });
  const direct = new RedisStore({ url: cluster.urls, commandTimeoutMs: 2000 });
  return {
    label: 'redis-cluster',
    counted,
    counter,
    direct,
    ports: cluster.nodes.map((node) => node.port),
    close: async () => {
      await Promise.all([counted.close(), direct.close()]);
      client.disconnect();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    },
  };
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const cluster = withCluster ? await startRedisCluster() : undefined;
  const targets = [await singleTarget(redis), ...(cluster ? [await clusterTarget(cluster)] : [])];
  const memory = new MemoryStore();
  try {
    const shape = decision();
    console.log(
      `decision: read ${shape.counters.length} counters + ${shape.keys.length} keys; add ${shape.counters.length} counters; ${iterations} timed reads\n`,
    );
    const memoryLatency = await latency(memory);
    const rows: Record<string, string | number>[] = [
      { store: 'memory', 'read cmds': 0, 'read RTTs': 0, 'add cmds': 0, 'add RTTs': 0, ...format(memoryLatency), 'x memory': 1 },
    ];
    for (const target of targets) {
      // Warm up until every node has a connection: a Cluster client opens them on first use.
      for (let i = 0; i < 50; i++) {
        const warm = decision();
        await target.counted.read(warm);
        await target.counted.add(warm.counters.map((ref) => ({ ...ref, points: 1 })));
      }

      const request = decision();
      target.counter.reset();
      const readCommands = await commandsDuring(target.ports, () => target.counted.read(request));
      const readTrips = target.counter.flights;
      target.counter.reset();
      const addCommands = await commandsDuring(target.ports, () =>
        target.counted.add(request.counters.map((ref) => ({ ...ref, points: 1 }))),
      );
      const addTrips = target.counter.flights;

      const measured = await latency(target.direct);
      rows.push({
        store: target.label,
        'read cmds': readCommands,
        'read RTTs': readTrips,
        'add cmds': addCommands,
        'add RTTs': addTrips,
        ...format(measured),
        'x memory': Number((measured.p50 / memoryLatency.p50).toFixed(1)),
      });
    }
    console.table(rows);
    console.log(
      'cmds: server-side commands from INFO commandstats (including those a Lua script runs: each rate-limiter-flexible\n' +
        'penalty is EVALSHA + SET + INCRBY + PTTL); RTTs: client→server bursts not interrupted by a reply, counted by a\n' +
        'proxy; x memory: p50 read latency relative to the memory store.',
    );
  } finally {
    await memory.close();
    for (const target of targets) await target.close();
    await redis.stop();
    await cluster?.stop();
  }
}

function format(l: { p50: number; p99: number; mean: number }): Record<string, string> {
  return { 'read p50 ms': l.p50.toFixed(3), 'read p99 ms': l.p99.toFixed(3), 'read mean ms': l.mean.toFixed(3) };
}

await main();
