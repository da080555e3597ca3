/**
 * What the stores cost per login decision: commands and network round trips per call, and
 * microseconds (wall and this process's CPU) per `read` and per `add`, on the memory store, one
 * Redis and a 3-node Redis Cluster — optionally against another version of `src/` in the same
 * run, interleaved round by round, so before/after ratios do not depend on how busy the machine
 * was at the time.
 *
 *   npx tsx bench/store-roundtrips.ts [--rounds 7] [--calls 2000] [--only memory,redis,redis-cluster] [--baseline DIR]
 *
 * DIR holds another version's `src/` (inside this checkout, so `node_modules` resolves), e.g.:
 *
 *   mkdir -p .tmp/before && git archive main src | tar -x -C .tmp/before
 *   npx tsx bench/store-roundtrips.ts --baseline .tmp/before
 *
 * The decision is the shield's own (`velocityRefs` + the keys `ShieldEngine.assess` reads, IPv6 so all
 * nine counters are read): a returning user's success is one `read`; a failure is that `read`
 * plus one `add` of the six or seven increments `recordOutcome` makes. `known` is the read a
 * device the account knows makes instead (ReadPlanner's known-device plan: one counter, three keys). Starts its own
 * redis-server processes on free ports and stops them afterwards.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { resolveConfig } from '../src/config/config.js';
import { storeKeys } from '../src/stores/key-layout.js';
import { ReadPlanner, type ReturningSlot } from '../src/engine/read-plan.js';
import { counterSpecs, refList, velocityRefs, waveBucket } from '../src/signals/velocity.js';
import type { CounterIncrement, ReadRequest, Store } from '../src/stores/store.js';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../test/support/redis.js';
import { commandCalls } from '../test/support/resp.js';
import { FlightCounter, startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Number(option('rounds') ?? 7);
const CALLS = Number(option('calls') ?? 2000);
const only = new Set((option('only') ?? 'memory,redis,redis-cluster').split(','));
const baselineDir = option('baseline');
/** Generous: this measures cost, not behaviour under faults, and a loaded machine stalls. */
const TIMEOUT_MS = 10_000;

// ---- the stores under test: this checkout, and optionally a baseline `src/` ----

interface StoreModules {
  MemoryStore: new () => Store;
  RedisStore: new (options: { client?: Redis | Cluster; url?: string | readonly string[]; commandTimeoutMs?: number }) => Store;
  /** The first argument was the ioredis command timeout before, the connect timeout now: either is fine here. */
  redisClientOptions: (timeoutMs?: number) => object;
  clusterClientOptions: (timeoutMs?: number) => object;
}

interface Implementation {
  readonly label: string;
  readonly modules: StoreModules;
}

async function load(label: string, srcDir: string): Promise<Implementation> {
  const from = (file: string) => import(pathToFileURL(resolve(srcDir, 'stores', file)).href);
  const [memory, redis] = await Promise.all([from('memory.ts'), from('redis.ts')]);
  return { label, modules: { ...memory, ...redis } as StoreModules };
}

// ---- the decision ----

const config = resolveConfig({ secret: 'store-roundtrips-bench-secret-0123456789abcdef' });
const specs = counterSpecs(config);
/** Distinct (account, source) pairs the calls cycle through: some counters exist, most keys repeat. */
const POOL = 1000;

interface Decision {
  readonly read: ReadRequest;
  /** A returning known device's read (ReadPlanner's known-device plan): its success is this read alone. */
  readonly known: ReadRequest;
  /** What `core.record` adds on a failure of an unknown device (the first of this pair). */
  readonly failure: CounterIncrement[];
}

function decision(n: number): Decision {
  const i = n % POOL;
  const account = `acct${i.toString(36).padStart(20, '0')}`;
  const device = `dev${i.toString(36).padStart(19, '0')}`;
  const ids = { account, ip: `ip${i.toString(36).padStart(20, '0')}`, subnet: `net${(i >> 4).toString(36).padStart(19, '0')}`, site: 'site0000000000000000000' };
  const refs = velocityRefs(specs, ids, waveBucket(Date.now(), config));
  const read: ReadRequest = {
    counters: refList(refs).list,
    keys: [
      storeKeys.passwordFlags(account),
      storeKeys.waveFlag(),
      storeKeys.recentChange(account),
      storeKeys.waveBaseline(),
      storeKeys.knownDevice(account, device),
      storeKeys.secondFactorPass(account, device),
    ],
  };
  const failure = [refs.ip, refs.subnet, refs.site, refs.evidence, refs.ipAccount, refs.account, refs.accountsPerIp].flatMap((ref) =>
    ref ? [{ ...ref, points: 1 }] : [],
  );
  // The planner's own cut, as a login from this device gets it once a whole read found the device known.
  const bucket = waveBucket(Date.now(), config);
  // The device's own slot for its plans, as its verified cookie keeps one in the engine.
  const slot: ReturningSlot = { returning: undefined };
  const whole = planner.plan({ ...ids, device }, bucket, 'login', [], slot);
  planner.recheck({ ...ids, device }, bucket, whole, whole.request.keys.map((key) => (key === storeKeys.knownDevice(account, device) ? '1' : undefined)), slot);
  const known = planner.plan({ ...ids, device }, bucket, 'login', [], slot).request;
  return { read, known, failure };
}
const planner = new ReadPlanner(specs);

const decisions = Array.from({ length: CALLS }, (_, n) => decision(n));

// ---- counting: commands (INFO commandstats, scripts' inner calls included) and round trips ----

async function commandsDuring(ports: readonly number[], work: () => Promise<unknown>): Promise<Record<string, number>> {
  const sum = async () => {
    const total: Record<string, number> = {};
    for (const calls of await Promise.all(ports.map(commandCalls))) {
      for (const [name, count] of Object.entries(calls)) if (name !== 'info') total[name] = (total[name] ?? 0) + count;
    }
    return total;
  };
  const before = await sum();
  await work();
  const after = await sum();
  return Object.fromEntries(Object.entries(after).flatMap(([name, count]) => (count > (before[name] ?? 0) ? [[name, count - (before[name] ?? 0)]] : [])));
}

interface Shape {
  /** Commands the client sent: script calls when there are any, else every command. */
  sent: number;
  /** What the servers ran, by command (INFO commandstats: a script's inner calls are listed too). */
  ran: string;
  trips: number;
  nodes: number;
}

const SCRIPT_CALLS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro']);

/**
 * Neither store mixes plain commands and scripts within one call, so when a call ran scripts,
 * everything else it ran ran inside them.
 */
async function shapeOf(counted: Store, counter: FlightCounter, ports: readonly number[], work: (store: Store) => Promise<unknown>): Promise<Shape> {
  counter.reset();
  const delta = await commandsDuring(ports, () => work(counted));
  const trips = counter.flights;
  const nodes = counter.chunksByProxy.size;
  const counts = Object.entries(delta).sort(([a], [b]) => a.localeCompare(b));
  const scripts = counts.filter(([name]) => SCRIPT_CALLS.has(name)).reduce((a, [, n]) => a + n, 0);
  const all = counts.reduce((a, [, n]) => a + n, 0);
  return { sent: scripts > 0 ? scripts : all, ran: counts.map(([name, n]) => `${name} ${n}`).join(', '), trips, nodes };
}

// ---- timing ----

interface Sample {
  wallUs: number;
  cpuUs: number;
}

async function timeCalls(calls: number, call: (i: number) => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call(i);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000 / calls;
  const { user, system } = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (user + system) / calls };
}

// ---- targets ----

interface Backend {
  readonly name: 'memory' | 'redis' | 'redis-cluster';
  /** A store per implementation, on a direct connection, for timing. */
  readonly timed: Map<string, Store>;
  /** A store per implementation behind a round-trip-counting proxy (Redis only). */
  readonly counted: Map<string, { store: Store; counter: FlightCounter; ports: number[] }>;
  close(): Promise<void>;
}

async function memoryBackend(impls: readonly Implementation[]): Promise<Backend> {
  const timed = new Map(impls.map((impl) => [impl.label, new impl.modules.MemoryStore()]));
  return { name: 'memory', timed, counted: new Map(), close: async () => void (await Promise.all([...timed.values()].map((s) => s.close()))) };
}

async function redisBackend(impls: readonly Implementation[], redis: RedisProcess): Promise<Backend> {
  const closers: (() => Promise<void>)[] = [];
  const timed = new Map<string, Store>();
  const counted: Backend['counted'] = new Map();
  for (const { label, modules } of impls) {
    timed.set(label, new modules.RedisStore({ url: redis.url, commandTimeoutMs: TIMEOUT_MS }));
    const counter = new FlightCounter();
    const proxy = await startTcpProxy(redis.port, counter);
    const client = new Redis(proxy.port, '127.0.0.1', modules.redisClientOptions(TIMEOUT_MS));
    counted.set(label, { store: new modules.RedisStore({ client, commandTimeoutMs: TIMEOUT_MS }), counter, ports: [redis.port] });
    closers.push(async () => {
      client.disconnect();
      await proxy.close();
    });
  }
  return { name: 'redis', timed, counted, close: () => closeAll(timed, counted, closers) };
}

async function clusterBackend(impls: readonly Implementation[], cluster: RedisCluster): Promise<Backend> {
  const closers: (() => Promise<void>)[] = [];
  const timed = new Map<string, Store>();
  const counted: Backend['counted'] = new Map();
  const ports = cluster.nodes.map((node) => node.port);
  for (const { label, modules } of impls) {
    timed.set(label, new modules.RedisStore({ url: cluster.urls, commandTimeoutMs: TIMEOUT_MS }));
    const counter = new FlightCounter();
    const proxies: TcpProxy[] = await Promise.all(cluster.nodes.map((node) => startTcpProxy(node.port, counter, { name: String(node.port) })));
    const natMap = Object.fromEntries(cluster.nodes.map((node, i) => [`127.0.0.1:${node.port}`, { host: '127.0.0.1', port: proxies[i]!.port }]));
    const client = new Cluster(
      proxies.map((proxy) => ({ host: '127.0.0.1', port: proxy.port })),
      { ...modules.clusterClientOptions(TIMEOUT_MS), natMap, slotsRefreshInterval: 0 },
    );
    counted.set(label, { store: new modules.RedisStore({ client, commandTimeoutMs: TIMEOUT_MS }), counter, ports });
    closers.push(async () => {
      client.disconnect();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    });
  }
  return { name: 'redis-cluster', timed, counted, close: () => closeAll(timed, counted, closers) };
}

async function closeAll(timed: Map<string, Store>, counted: Backend['counted'], closers: (() => Promise<void>)[]): Promise<void> {
  await Promise.all([...timed.values(), ...[...counted.values()].map((c) => c.store)].map((s) => s.close()));
  for (const close of closers) await close();
}

// ---- run ----

type Op = 'read' | 'known' | 'add';
const OPS: Record<Op, (store: Store, d: Decision) => Promise<unknown>> = {
  read: (store, d) => store.read(d.read),
  known: (store, d) => store.read(d.known),
  add: (store, d) => store.add(d.failure),
};

function spread(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0] ?? NaN, median: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

const fmt = (s: { min: number; median: number; max: number }, digits = 1) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

async function main(): Promise<void> {
  const impls = [await load('this', resolve(import.meta.dirname, '../src'))];
  if (baselineDir) impls.unshift(await load('baseline', resolve(baselineDir, 'src')));
  const redis = only.has('redis') ? await startRedis() : undefined;
  const cluster = only.has('redis-cluster') ? await startRedisCluster() : undefined;
  const backends = [
    ...(only.has('memory') ? [await memoryBackend(impls)] : []),
    ...(redis ? [await redisBackend(impls, redis)] : []),
    ...(cluster ? [await clusterBackend(impls, cluster)] : []),
  ];
  try {
    const example = decisions[0] as Decision;
    console.log(
      `decision: read ${example.read.counters.length} counters + ${example.read.keys.length} keys (a known device: ${example.known.counters.length} + ${example.known.keys.length}); a failure adds ${example.failure.length} counters; ` +
        `${ROUNDS} rounds × ${CALLS} sequential calls per op; implementations: ${impls.map((i) => i.label).join(', ')}; node ${process.version}\n`,
    );

    // Warm up: connections to every node, scripts loaded, slot maps, JIT.
    for (const backend of backends) {
      for (const store of [...backend.timed.values(), ...[...backend.counted.values()].map((c) => c.store)]) {
        for (let i = 0; i < 300; i++) {
          const d = decisions[i] as Decision;
          await store.read(d.read);
          await store.add(d.failure);
        }
      }
    }

    const shapes: Record<string, string | number>[] = [];
    for (const backend of backends) {
      for (const [label, { store, counter, ports }] of backend.counted) {
        const d = decision(POOL + 7);
        for (const op of ['read', 'known', 'add'] as const) {
          const shape = await shapeOf(store, counter, ports, (s) => OPS[op](s, d));
          shapes.push({ backend: backend.name, impl: label, op, 'cmds sent': shape.sent, 'round trips': shape.trips, 'nodes reached': shape.nodes, 'server ran': shape.ran });
        }
      }
    }
    if (shapes.length > 0) {
      console.log('Commands and round trips per call (one decision; a success is one read, a known device\'s success one known read, a failure a read and an add):');
      console.table(shapes);
    }

    const samples = new Map<string, Sample[]>();
    const keyOf = (backend: string, label: string, op: Op) => `${backend}\0${label}\0${op}`;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so neither implementation always runs first (or right after a GC).
      const order = round % 2 ? [...impls].reverse() : impls;
      for (const backend of backends) {
        for (const impl of order) {
          const store = backend.timed.get(impl.label) as Store;
          for (const op of ['read', 'known', 'add'] as const) {
            const offset = round * 7919;
            const sample = await timeCalls(CALLS, (i) => OPS[op](store, decisions[(i + offset) % CALLS] as Decision));
            const key = keyOf(backend.name, impl.label, op);
            samples.set(key, [...(samples.get(key) ?? []), sample]);
          }
        }
      }
    }

    const rows: Record<string, string>[] = [];
    for (const backend of backends) {
      for (const op of ['read', 'known', 'add'] as const) {
        for (const impl of impls) {
          const mine = samples.get(keyOf(backend.name, impl.label, op)) ?? [];
          const row: Record<string, string> = {
            backend: backend.name,
            op,
            impl: impl.label,
            'wall µs/call': fmt(spread(mine.map((s) => s.wallUs)), backend.name === 'memory' ? 2 : 1),
            'cpu µs/call': fmt(spread(mine.map((s) => s.cpuUs)), backend.name === 'memory' ? 2 : 1),
          };
          if (impl.label !== 'baseline' && baselineDir) {
            const base = samples.get(keyOf(backend.name, 'baseline', op)) ?? [];
            row['wall ÷ baseline'] = fmt(spread(mine.map((s, i) => s.wallUs / (base[i]?.wallUs ?? NaN))), 2);
            row['cpu ÷ baseline'] = fmt(spread(mine.map((s, i) => s.cpuUs / (base[i]?.cpuUs ?? NaN))), 2);
          }
          rows.push(row);
        }
      }
    }
    console.log('Per call: median (min–max) over rounds; ratios per round, this ÷ baseline measured in the same round:');
    console.table(rows);
    console.log(
      'wall: sequential calls, so for Redis it is the latency of one call over loopback; cpu: this process only (the\n' +
        'client side: building commands, parsing replies, timers, promises), not redis-server. cmds sent: a script call\n' +
        'counts once; server ran: INFO commandstats, a script and each command it runs.',
    );
  } finally {
    for (const backend of backends) await backend.close();
    await redis?.stop();
    await cluster?.stop();
  }
}

await main();
