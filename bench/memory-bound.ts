/**
 * Memory and speed of the embedded store under a distributed attack, against the store as it
 * was before the bound (one rate-limiter-flexible RateLimiterMemory per family: a record and a
 * timer per key, nothing capped), measured in the same run.
 *
 *   npm run bench:memory [-- --quick] [-- --sources 1000000 --before-sources 300000 --rounds 11]
 *
 * 1. bytes per key: N distinct counters written, heap delta after gc (own process per figure);
 * 2. flood: N distinct sources (half IPv4, half IPv6 with rotating host bits in one /64) each
 *    decided the way the shield does — read 7 counters and 3 keys, add a failure, store a
 *    challenge — after one source reached its limit; reports peak and live heap and whether
 *    that source and the /64 still read as blocked (own process per store);
 * 3. time per decision (read + add), interleaved rounds of both stores, median and spread;
 *    and per increment: the table alone, through rate-limiter-flexible's store abstraction,
 *    and rate-limiter-flexible's own RateLimiterMemory.
 *
 * Full run: ~4 CPU-minutes (most of it the 10^6-source flood). --quick: 10^5 sources, ~1 minute.
 *
 * Children run with --expose-gc; the new store's flood also runs under --max-old-space-size
 * 256, so finishing at all shows the bound holds.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { resolveConfig } from '../src/config/config.js';
import { storeKeys } from '../src/stores/key-layout.js';
import { counterSpecs, refList, type VelocityIds, type VelocityRefs, velocityRefs, waveBucket } from '../src/signals/velocity.js';
import { RateLimiterCompactMemory } from '../src/stores/compact-limiter.js';
import { CounterTable } from '../src/stores/counter-table.js';
import { MemoryStore } from '../src/stores/memory.js';
import type { CounterIncrement, CounterRef, CounterSpec, CounterValue, ReadRequest, ReadResult } from '../src/stores/store.js';

type StoreKind = 'before' | 'after';
type BenchStore = { read(r: ReadRequest): Promise<ReadResult>; add(i: readonly CounterIncrement[]): Promise<CounterValue[]>; set(k: string, v: string, ttl: number): Promise<void> };

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = flag('quick');
const SOURCES = option('sources', quick ? 100_000 : 1_000_000);
/** The unbounded store keeps ~2.3 KB per source and slows with it; 300,000 show the slope. */
const BEFORE_SOURCES = Math.min(SOURCES, option('before-sources', quick ? 50_000 : 300_000));
const ROUNDS = option('rounds', quick ? 3 : 11);
const HEAP_CAP_MB = 256;

const config = resolveConfig({ secret: 'memory-bound-bench-secret-0123456789abcdef' });
const specs = counterSpecs(config);

/**
 * A keyed id as the shield makes them (`src/identity/keyer.ts`: 22 base64url characters sliced from a
 * longer digest), derived from an integer with a cheap mix instead of an HMAC, which on a
 * loaded machine cost more than the store under test.
 */
const digest = Buffer.alloc(32);
function id(kind: number, n: number): string {
  for (let w = 0; w < 8; w++) digest.writeUInt32LE(mix(n * 8 + w + kind * 0x1000193), w * 4);
  return digest.toString('base64url').slice(0, 22);
}
const KIND = { acct: 1, ip: 2, net: 3, chal: 4, victim: 5, site: 6 } as const;

/** The store on main before the bound: a RateLimiterMemory (record + timer per key) per family. */
class UnboundedStore implements BenchStore {
  private readonly limiters = new Map<string, RateLimiterMemory>();
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private limiter(spec: CounterSpec): RateLimiterMemory {
    let limiter = this.limiters.get(spec.name);
    if (!limiter) this.limiters.set(spec.name, (limiter = new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSec })));
    return limiter;
  }
  async read(request: ReadRequest): Promise<ReadResult> {
    const counters = await Promise.all(
      request.counters.map(async ({ spec, key }) => {
        const res = await this.limiter(spec).get(key);
        return res ? { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) } : { consumed: 0, msBeforeNext: 0 };
      }),
    );
    const now = Date.now();
    return { counters, values: request.keys.map((k) => { const e = this.entries.get(k); return e && e.expiresAt > now ? e.value : undefined; }) };
  }
  async add(increments: readonly CounterIncrement[]): Promise<CounterValue[]> {
    return Promise.all(
      increments.map(async ({ spec, key, points }) => {
        const res = await this.limiter(spec).penalty(key, points);
        return { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
      }),
    );
  }
  async set(k: string, value: string, ttlMs: number): Promise<void> {
    this.entries.delete(k);
    this.entries.set(k, { value, expiresAt: Date.now() + ttlMs });
    if (this.entries.size > 1_000_000) this.entries.delete(this.entries.keys().next().value as string);
  }
}

const makeStore = (kind: StoreKind, maxCounters?: number): BenchStore =>
  kind === 'before' ? new UnboundedStore() : new MemoryStore(maxCounters ? { maxCounters } : {});

// ---- workload: what one failed login from a source does to the store ----

interface Source {
  readonly ids: VelocityIds;
  readonly keys: string[];
  readonly challenge: string;
}

const ACCOUNTS = 200_000;
const accountIds: string[] = [];
const accountOf = (i: number) => (accountIds[i % ACCOUNTS] ??= id(KIND.acct, i % ACCOUNTS));
const V6_SUBNET = -1;

/**
 * Source i: even = a random IPv4 address (its own /24 most of the time), odd = a host of one
 * IPv6 /64 (and /48) with rotating host bits.
 */
function source(i: number, account = accountOf(i)): Source {
  const v4 = i % 2 === 0;
  const ids = { ip: id(KIND.ip, i), subnet: id(KIND.net, v4 ? mix(i) >>> 8 : V6_SUBNET), account, ...(v4 ? {} : { site: id(KIND.site, 0) }) };
  return {
    ids,
    keys: [storeKeys.passwordFlags(account), storeKeys.waveFlag(), storeKeys.recentChange(account), storeKeys.waveBaseline()],
    challenge: storeKeys.challenge(id(KIND.chal, i)),
  };
}

const refsOf = (s: Source): VelocityRefs => velocityRefs(specs, s.ids, waveBucket(Date.now(), config));

const CHALLENGE = JSON.stringify({ account: 'x'.repeat(22), userId: null, device: null, purpose: 'login', expiresAt: 1_770_000_000_000 });

/** One failed login, as `core.assess` + `core.record` + a step-up challenge do it. */
async function failedLogin(store: BenchStore, s: Source, challenge = true): Promise<CounterValue[]> {
  const refs = refsOf(s);
  const { names, list } = refList(refs);
  const { counters } = await store.read({ counters: list, keys: s.keys });
  const inc: CounterIncrement[] = [refs.ip, refs.subnet, refs.site, refs.evidence, refs.ipAccount, refs.account].flatMap((ref) => (ref ? [{ ...ref, points: 1 }] : []));
  if ((counters[names.indexOf('ipAccount')]?.consumed ?? 0) === 0) inc.push({ ...refs.accountsPerIp, points: 1 });
  await store.add(inc);
  if (challenge) await store.set(s.challenge, CHALLENGE, config.challenge.ttlSec * 1000);
  return counters;
}

// ---- child phases ----

const heapMb = () => process.memoryUsage().heapUsed / 2 ** 20;
const gcHeap = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};
/** Timers created while `fn` runs (RateLimiterMemory sets one per key; the table none). */
async function countingTimers<T>(fn: () => Promise<T>): Promise<{ result: T; timers: number }> {
  const original = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return original(...args);
  }) as typeof setTimeout;
  try {
    return { result: await fn(), timers };
  } finally {
    globalThis.setTimeout = original;
  }
}

async function bytesPerKey(kind: StoreKind, n: number): Promise<object> {
  const store = makeStore(kind, n + 16);
  const base = gcHeap();
  const families = [specs.ip, specs.accountsPerIp, specs.ipAccount, specs.subnet, specs.account];
  const { timers } = await countingTimers(async () => {
    for (let i = 0; i < n; i++) {
      const spec = families[i % families.length] as CounterSpec;
      const ip = id(KIND.ip, i);
      const k = spec === specs.ipAccount ? `{${id(KIND.acct, i)}}:${ip}` : spec === specs.account ? `{${ip}}` : ip;
      await store.add([{ spec, key: k, points: 1 }]);
    }
  });
  const bytes = (gcHeap() - base) / n;
  return { kind, n, bytesPerKey: Math.round(bytes), timersCreated: timers };
}

async function flood(kind: StoreKind, n: number): Promise<object> {
  const store = makeStore(kind);
  const started = Date.now();
  const cpu = process.cpuUsage();
  const base = gcHeap();
  // One source fails against many accounts until it is well past its limits...
  const persistent = Array.from({ length: 25 }, (_, a) => source(-2, id(KIND.victim, a)));
  for (const s of persistent) await failedLogin(store, s);
  // ...then a million fresh sources each fail once.
  let peak = heapMb();
  for (let i = 0; i < n; i++) {
    await failedLogin(store, source(i));
    if (i % 5000 === 0) peak = Math.max(peak, heapMb());
  }
  peak = Math.max(peak, heapMb());
  const live = gcHeap();
  const consumed = async (ref: CounterRef | undefined) => (ref ? (await store.read({ counters: [ref], keys: [] })).counters[0]?.consumed : undefined);
  const probe = refsOf(persistent[0] as Source);
  const v6 = refsOf(source(1));
  // How much of the flood itself is still remembered, early and late sources.
  const remembered = async (from: number) => {
    let kept = 0;
    for (let i = from; i < from + 2000; i += 2) kept += (await consumed(refsOf(source(i)).ip)) ? 1 : 0;
    return kept / 1000;
  };
  return {
    kind,
    sources: n,
    seconds: (Date.now() - started) / 1000,
    cpuSeconds: cpuSeconds(cpu),
    heapBaseMb: base / 2 ** 20,
    heapPeakMb: peak,
    heapLiveMb: live / 2 ** 20,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    counters: store instanceof MemoryStore ? store.counterCount : undefined,
    keys: store instanceof MemoryStore ? store.size : undefined,
    evictions: store instanceof MemoryStore ? store.evictions : undefined,
    persistentIp: await consumed(probe.ip),
    persistentAccountsPerIp: await consumed(probe.accountsPerIp),
    v6Subnet: await consumed(v6.subnet),
    v6Site: await consumed(v6.site),
    waveEvidenceThisBucket: await consumed(v6.evidence),
    limits: { ip: specs.ip.points, accountsPerIp: specs.accountsPerIp.points, subnet: specs.subnet.points, site: specs.site.points },
    rememberedFirst: await remembered(0),
    rememberedLast: await remembered(Math.max(0, n - 2000)),
  };
}

async function speed(rounds: number): Promise<object> {
  const PER_ROUND = quick ? 5_000 : 10_000;
  const POOL = 2_000;
  const samples: Record<StoreKind, number[]> = { before: [], after: [] };
  for (let round = 0; round <= rounds; round++) {
    // 70 % returning sources (updates), 30 % fresh ones (inserts); keys built before timing.
    const work = Array.from({ length: PER_ROUND }, (_, i) => source(i % 10 < 7 ? (i * 7919) % POOL : round * PER_ROUND + i + POOL));
    const order: StoreKind[] = round % 2 ? ['before', 'after'] : ['after', 'before'];
    for (const kind of order) {
      const store = makeStore(kind);
      globalThis.gc?.();
      const t0 = process.hrtime.bigint();
      for (const s of work) await failedLogin(store, s, false);
      const us = Number(process.hrtime.bigint() - t0) / 1000 / PER_ROUND;
      if (round > 0) samples[kind].push(us); // round 0 warms up
      await (store as Partial<MemoryStore>).close?.();
    }
  }
  const ratios = samples.after.map((a, i) => a / (samples.before[i] as number));
  return {
    kind: 'speed',
    perRound: PER_ROUND,
    usPerDecision: { before: spread(samples.before), after: spread(samples.after), ratio: spread(ratios) },
    usPerIncrement: await engineCost(rounds),
  };
}

/**
 * What rate-limiter-flexible costs per increment over the table it writes to: its store
 * abstraction (penalty → _upsert) against calling the table directly and against its own
 * RateLimiterMemory (the engine before), interleaved.
 */
async function engineCost(rounds: number): Promise<object> {
  const N = quick ? 20_000 : 100_000;
  const keys = Array.from({ length: N }, (_, i) => id(KIND.ip, i % 5000));
  const ways = {
    table: () => {
      const table = new CounterTable({ maxCounters: 1_000_000, now: Date.now });
      const family = table.addFamily({ limit: 20, weight: 1 });
      return async (k: string) => void table.upsert(family, k, 1, 900_000);
    },
    rlfCompact: () => {
      const limiter = new RateLimiterCompactMemory({ keyPrefix: 'f', points: 20, duration: 900, weight: 1, table: new CounterTable({ maxCounters: 1_000_000, now: Date.now }) });
      return async (k: string) => void (await limiter.penalty(k, 1));
    },
    rlfMemory: () => {
      const limiter = new RateLimiterMemory({ keyPrefix: 'f', points: 20, duration: 900 });
      return async (k: string) => void (await limiter.penalty(k, 1));
    },
  };
  const samples: Record<string, number[]> = { table: [], rlfCompact: [], rlfMemory: [] };
  for (let round = 0; round <= rounds; round++) {
    const order = Object.entries(ways);
    for (const [name, make] of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
      const increment = make();
      const t0 = process.hrtime.bigint();
      for (const k of keys) await increment(k);
      if (round > 0) samples[name]?.push(Number(process.hrtime.bigint() - t0) / 1000 / N);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, spread(values)]));
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}

function spread(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0] ?? NaN, median: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

function mix(x: number): number {
  let h = Math.imul(x ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---- parent: one child per figure ----

function child(phase: string, params: (string | number)[], heapCapMb?: number): Record<string, unknown> {
  const script = fileURLToPath(import.meta.url);
  const flags = ['--expose-gc', ...(heapCapMb ? [`--max-old-space-size=${heapCapMb}`] : []), '--import', 'tsx'];
  const run = spawnSync(process.execPath, [...flags, script, '--child', phase, ...params.map(String), ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) return { phase, failed: true, status: run.status, signal: run.signal, stderr: run.stderr.slice(-2000) };
  return JSON.parse(line) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const i = args.indexOf('--child');
  if (i >= 0) {
    const [phase, kind, n] = args.slice(i + 1);
    const result =
      phase === 'bytes' ? await bytesPerKey(kind as StoreKind, Number(n)) : phase === 'flood' ? await flood(kind as StoreKind, Number(n)) : await speed(Number(kind));
    console.log(JSON.stringify(result));
    process.exit(0);
  }
  const sizes = quick ? [100_000] : [100_000, 1_000_000];
  console.log(`memory-bound: ${SOURCES.toLocaleString('en')} sources (before: ${BEFORE_SOURCES.toLocaleString('en')}), ${ROUNDS} speed rounds, node ${process.version}`);
  for (const n of sizes) for (const kind of ['before', 'after'] as const) print('bytes/key', child('bytes', [kind, n]));
  print('flood', child('flood', ['after', SOURCES], HEAP_CAP_MB));
  print('flood', child('flood', ['before', BEFORE_SOURCES]));
  print('speed', child('speed', [ROUNDS]));
}

function print(label: string, result: Record<string, unknown>): void {
  console.log(`${label.padEnd(10)} ${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(2)) : v))}`);
  if (result.failed) process.exitCode = 1;
}

await main();
