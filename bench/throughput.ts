/**
 * What the shield costs per request, in one run against bare Express and the peers people use
 * instead (`npm run bench:throughput`, which builds dist/ first; `-- --quick` for a short run):
 *
 *   bare Express · express-rate-limit (one counter per IP) · rate-limiter-flexible (one
 *   RateLimiterMemory `consume` per IP) · shield, memory store · shield, Redis · the floor for
 *   Redis (bare + one pipelined read of 8 keys) · and the attack paths on the memory store: new
 *   devices (step-up answers) and a source over its limit (429).
 *
 * Cheap login route (bench/lib/login-server.ts, run as plain JavaScript on the compiled dist/),
 * each variant in its own long-lived process, enrolled (login + step-up, then one login per
 * account so the shield has learnt each password's quality) and warmed up first; autocannon -c 32,
 * one window per variant per round, the order rotated each round, so drift on a shared machine
 * hits every variant alike. Per variant: req/s per round, its ratio to bare Express in the
 * same round (min / median / max over rounds), p50/p99 latency, and the server's CPU µs per
 * request (its own `process.cpuUsage()` before and after each window, divided by requests
 * served), which moves far less with machine noise than throughput, and the login guard's own
 * time in the server (median per window): from its entry to its `next()` for the logins it
 * lets through, to handing its answer to Express for those it answers (401, 429). That is the
 * shield's share alone, with Express's real request objects, which whole-request CPU buries
 * under Express's and the machine's noise; one login in 8 is timed, so the timing (a WeakMap
 * write and read each) costs the shield's variants little (bench/lib/login-server.ts). Beside
 * CPU, the collector's pauses per request (the server's own GC entries). For Redis: redis-server's
 * CPU and commands per request during the windows, then round trips per decision, path by
 * path, through a counting proxy (bench/lib/round-trips.ts).
 *
 * A full run writes `cost.throughput` in bench/results.json (nothing else there changes) and
 * regenerates the README's performance line. --quick writes nothing unless --write is given.
 *
 *   --quick  --write  --rounds N  --window SECONDS  --variants bare,shield-memory,…
 *
 * --variants runs only the named variants (bare is always among them: every ratio is to it),
 * for a focused before/after while working; such a run writes nothing unless --write is given.
 *
 * SERVER_NODE_ARGS="--perf-basic-prof" (say) starts every server process with those node
 * flags, to profile a variant from outside (`perf record -p PID`; MODE is in its environment).
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { type RedisProcess, startRedis } from '../test/support/redis.js';
import { commandCalls, redisCall } from '../test/support/resp.js';
import { compiledScript } from './lib/compiled.js';
import {
  blockedTraffic,
  burnSources,
  cannonRequest,
  newDeviceTraffic,
  returningTraffic,
  settleReturning,
  sourceSet,
  type Traffic,
  type TrafficKind,
} from './lib/cost-traffic.js';
import { type GuardTimes, processCpuUs, serverStats } from './lib/cpu.js';
import { Target } from './lib/http.js';
import { enrolAccounts, WRONG_EVERY } from './lib/load.js';
import { measuredCommit } from './lib/measured-commit.js';
import { onPath } from './lib/on-path.js';
import { type ServerProcess, startServer } from './lib/processes.js';
import { writeCostPart } from './lib/results-file.js';
import { measureRoundTrips, type RoundTrips } from './lib/round-trips.js';
import { rotation, rounded, roundedSpread, type Spread, spread, spreadText } from './lib/spread.js';
import { writeReadmePerformance } from './readme-performance.js';

// The attack bench (`npm run bench`) keeps its own, smaller cost section under this name.
export { runThroughput, type ThroughputResult } from './lib/attack-throughput.js';

interface Settings {
  readonly name: 'full' | 'quick';
  readonly windowSec: number;
  readonly warmupSec: number;
  readonly rounds: number;
  readonly connections: number;
  /** Returning accounts, enrolled once (login + step-up) so they have a known device. */
  readonly accounts: number;
  /** Accounts the attack paths try: known to the server, never seen by the shield. */
  readonly attackAccounts: number;
  /** Addresses over their limit per blocked-source window (a fresh set each window). */
  readonly sourcesPerWindow: number;
}

const FULL: Settings = { name: 'full', windowSec: 10, warmupSec: 5, rounds: 5, connections: 32, accounts: 8_000, attackAccounts: 100_000, sourcesPerWindow: 128 };
const QUICK: Settings = { name: 'quick', windowSec: 2, warmupSec: 1, rounds: 2, connections: 32, accounts: 1_000, attackAccounts: 10_000, sourcesPerWindow: 16 };

type Action = 'allow' | 'challenge' | 'block';

interface VariantSpec {
  readonly name: string;
  readonly label: string;
  /** MODE of bench/lib/login-server.ts. */
  readonly mode: string;
  readonly traffic: TrafficKind;
  readonly redis?: true;
  /** What every shield decision of the window should be: anything else is noted. */
  readonly expect?: Action;
  /** The answers the window should get. */
  readonly statuses: readonly number[];
}

const VARIANTS: readonly VariantSpec[] = [
  { name: 'bare', label: 'bare Express', mode: 'bare', traffic: 'returning', statuses: [200, 401] },
  { name: 'express-rate-limit', label: 'express-rate-limit (one counter per IP)', mode: 'express-rate-limit', traffic: 'returning', statuses: [200, 401] },
  { name: 'rate-limiter-flexible', label: 'rate-limiter-flexible, one `consume` per IP', mode: 'rate-limiter-flexible', traffic: 'returning', statuses: [200, 401] },
  { name: 'shield-memory', label: 'shield, memory store', mode: 'memory', traffic: 'returning', expect: 'allow', statuses: [200, 401] },
  { name: 'shield-redis', label: 'shield, Redis', mode: 'redis', traffic: 'returning', redis: true, expect: 'allow', statuses: [200, 401] },
  { name: 'redis-floor', label: 'floor for Redis: bare + one pipelined read of 8 keys', mode: 'redis-floor', traffic: 'returning', redis: true, statuses: [200, 401] },
  { name: 'shield-memory-new-device', label: 'shield, memory store: new devices (step-up answers)', mode: 'memory', traffic: 'new-device', expect: 'challenge', statuses: [401] },
  { name: 'shield-memory-blocked', label: 'shield, memory store: a source over its limit (429)', mode: 'memory', traffic: 'blocked-source', expect: 'block', statuses: [429] },
];

const TRAFFIC_TEXT: Record<TrafficKind, (s: Settings) => string> = {
  returning: (s) =>
    `${s.accounts.toLocaleString('en')} returning accounts, each from its usual address with the device cookie it got at enrolment (login + step-up; variants without the shield get the same cookie header bytes), 1 in ${WRONG_EVERY} with a wrong password`,
  'new-device': (s) =>
    `${s.attackAccounts.toLocaleString('en')} accounts in turn that the server knows and the shield never saw, no cookie, a new client address on every request, 1 in ${WRONG_EVERY} with a wrong password: every answer a step-up`,
  'blocked-source': (s) =>
    `${s.sourcesPerWindow} client addresses per window that each failed 20 times just before (a fresh set each window), no cookie, any of ${s.attackAccounts.toLocaleString('en')} accounts: every answer a 429`,
};

export interface CostWindow {
  readonly round: number;
  /** Place of this variant in the round's order (0 = first). */
  readonly position: number;
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly requests: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly cpuUsPerRequest: number;
  /** Of that CPU, the collector's pauses per request (µs). */
  readonly gcUsPerRequest?: number;
  /** The login guard's own µs per login it let through, in the server (see login-server.ts). */
  readonly guardUs?: GuardTimes;
  /** The same per login it answered itself (401, 429), until it hands the answer to Express. */
  readonly answeredUs?: GuardTimes;
  readonly heapUsedMB: number;
  readonly redisCpuUsPerRequest?: number;
  readonly redisCommandsPerRequest?: number;
  /** The shield's decisions in the window, by action. */
  readonly decisions?: Record<string, number>;
  /** Of those, how many the insurance store served (the Redis path was not what ran). */
  readonly degraded?: number;
}

export interface CostVariant {
  readonly name: string;
  readonly label: string;
  readonly traffic: string;
  readonly windows: CostWindow[];
  readonly rps: Spread;
  /** This variant's req/s ÷ bare Express's in the same round. */
  readonly ratioToBare: Spread;
  readonly ratioToBarePerRound: number[];
  readonly p50ms: Spread;
  readonly p99ms: Spread;
  readonly cpuUsPerRequest: Spread;
  /** The window medians of the guard's own µs in the server (allowed logins only). */
  readonly guardUs?: Spread;
  /** The window medians of the guard's µs for the logins it answered itself. */
  readonly answeredUs?: Spread;
  readonly redisCpuUsPerRequest?: Spread;
  readonly redisCommandsPerRequest?: Spread;
}

export interface Comparison {
  readonly name: string;
  readonly perRound: number[];
  readonly ratio: Spread;
}

export interface CostThroughput {
  readonly generatedAt: string;
  readonly command: string;
  readonly mode: 'full' | 'quick';
  readonly commit: string;
  readonly machine: { cpus: number; node: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  readonly settings: Settings & { wrongEvery: number; order: string };
  readonly server: string;
  readonly variants: CostVariant[];
  readonly comparisons: Comparison[];
  readonly roundTrips: RoundTrips | null;
  readonly notes: string[];
  readonly wallSeconds: number;
}

type Log = (line: string) => void;

interface Live {
  readonly spec: VariantSpec;
  readonly server: ServerProcess;
  /** The traffic of the window with this index (blocked sources are burnt first). */
  traffic(window: number): Promise<Traffic>;
}

let offset = 0;

async function window(live: Live, seconds: number, connections: number, windowIndex: number, redis: RedisProcess | undefined): Promise<Omit<CostWindow, 'round' | 'position'>> {
  const { port } = live.server;
  const traffic = await live.traffic(windowIndex);
  const useRedis = live.spec.redis && redis;
  // Also empties the guard's samples, so the window's are its own.
  const before = await serverStats(port);
  const redisBefore = useRedis ? { cpu: await processCpuUs(redis.pid), calls: await commandCalls(redis.port) } : undefined;
  offset += 10_000_000;
  const r = await autocannon({ url: `http://127.0.0.1:${port}`, connections, duration: seconds, requests: [cannonRequest(traffic, offset)] });
  const after = await serverStats(port);
  const requests = r['2xx'] + r.non2xx;
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count ?? 0;
  let redisFigures: Pick<CostWindow, 'redisCpuUsPerRequest' | 'redisCommandsPerRequest'> = {};
  if (useRedis && redisBefore) {
    const cpu = await processCpuUs(redis.pid);
    const calls = await commandCalls(redis.port);
    let commands = 0;
    for (const [name, n] of Object.entries(calls)) if (name !== 'info') commands += n - (redisBefore.calls[name] ?? 0);
    redisFigures = {
      ...(cpu !== undefined && redisBefore.cpu !== undefined ? { redisCpuUsPerRequest: rounded((cpu - redisBefore.cpu) / requests, 1) } : {}),
      redisCommandsPerRequest: rounded(commands / requests, 2),
    };
  }
  const decisions: Record<string, number> = {};
  for (const [action, n] of Object.entries(after.actions)) {
    const delta = n - (before.actions[action] ?? 0);
    if (delta > 0) decisions[action] = delta;
  }
  return {
    rps: rounded(requests / r.duration, 1),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    requests,
    statuses,
    errors: r.errors + r.timeouts,
    cpuUsPerRequest: rounded((after.cpuUs - before.cpuUs) / requests, 1),
    ...(after.gcUs !== undefined && before.gcUs !== undefined ? { gcUsPerRequest: rounded((after.gcUs - before.gcUs) / requests, 1) } : {}),
    ...(after.guard ? { guardUs: after.guard } : {}),
    ...(after.answered ? { answeredUs: after.answered } : {}),
    heapUsedMB: rounded(after.heapUsed / 1e6, 1),
    ...redisFigures,
    ...(Object.keys(decisions).length > 0 ? { decisions } : {}),
    ...(after.degraded > before.degraded ? { degraded: after.degraded - before.degraded } : {}),
  };
}

function describeWindow(w: Omit<CostWindow, 'round' | 'position'>): string {
  const redis = w.redisCpuUsPerRequest !== undefined ? ` · redis ${w.redisCpuUsPerRequest} µs/req, ${w.redisCommandsPerRequest} cmds/req` : '';
  const times = (label: string, t: GuardTimes | undefined) => (t ? `, ${label} ${t.median} µs (p10 ${t.p10}, p90 ${t.p90})` : '');
  const guard = times('guard', w.guardUs) + times('answering', w.answeredUs);
  return `${w.rps.toFixed(0)} req/s, p50 ${w.p50ms} ms, p99 ${w.p99ms} ms, ${w.cpuUsPerRequest} µs CPU/req${w.gcUsPerRequest !== undefined ? ` (GC ${w.gcUsPerRequest})` : ''}${guard}${redis}, heap ${w.heapUsedMB} MB, ${JSON.stringify(w.statuses)}${w.errors ? `, ${w.errors} errors` : ''}${w.decisions ? ` · ${JSON.stringify(w.decisions)}` : ''}${w.degraded ? `, ${w.degraded} degraded` : ''}`;
}

async function startVariants(settings: Settings, specs: readonly VariantSpec[], script: string, redis: RedisProcess | undefined, log: Log, notes: string[]): Promise<Live[]> {
  const users = settings.accounts + settings.attackAccounts;
  const servers = await Promise.all(
    specs.map((spec) =>
      startServer({
        args: [...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), script],
        env: { MODE: spec.mode, REDIS_URL: redis?.url ?? '', USERS: String(users), NODE_ENV: 'production' },
        ready: /\[login-server\] listening on :(\d+)/,
        timeoutMs: 60_000,
      }),
    ),
  );
  // Shield variants on the returning path enrol their accounts; the others replay the memory
  // variant's cookies, so every variant receives the same request bytes.
  const cookies = new Map<string, (string | undefined)[]>();
  for (const [i, spec] of specs.entries()) {
    if (spec.traffic !== 'returning' || !spec.expect) continue;
    const target = new Target(servers[i]!.port, 16);
    const started = performance.now();
    try {
      cookies.set(
        spec.name,
        await enrolAccounts(target, settings.accounts).catch(async (error: unknown) => {
          // Seen on an overloaded machine: a step-up answered invalid_code once. Enrolment is
          // set-up, not measurement: say so and enrol again (every device is new again).
          notes.push(`${spec.name}: enrolment failed once (${error instanceof Error ? error.message : String(error)}) and was repeated`);
          return enrolAccounts(target, settings.accounts);
        }),
      );
      const other = await settleReturning(target, settings.accounts, cookies.get(spec.name)!);
      if (other > 0) notes.push(`${spec.name}: ${other} of the ${settings.accounts} settling logins (one per account, after enrolment) got no token`);
    } finally {
      target.close();
    }
    log(`${spec.name}: ${settings.accounts} accounts enrolled and settled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const shared = cookies.get('shield-memory') ?? [...cookies.values()][0] ?? [];
  return specs.map((spec, i) => {
    const server = servers[i]!;
    const attackFrom = settings.accounts;
    let traffic: Live['traffic'];
    if (spec.traffic === 'returning') {
      const t = returningTraffic(settings.accounts, cookies.get(spec.name) ?? shared);
      traffic = async () => t;
    } else if (spec.traffic === 'new-device') {
      const t = newDeviceTraffic(attackFrom, settings.attackAccounts);
      traffic = async () => t;
    } else {
      traffic = async (windowIndex) => {
        const sources = sourceSet(windowIndex, settings.sourcesPerWindow);
        const target = new Target(server.port, 16);
        await burnSources(target, sources, settings.accounts).finally(() => target.close());
        return blockedTraffic(attackFrom, settings.attackAccounts, sources);
      };
    }
    return { spec, server, traffic };
  });
}

function summarise(spec: VariantSpec, settings: Settings, windows: CostWindow[], bare: CostWindow[]): CostVariant {
  const perRound = windows.map((w) => rounded(w.rps / (bare.find((b) => b.round === w.round)?.rps ?? Number.NaN), 3));
  const of = (f: (w: CostWindow) => number | undefined) => {
    const values = windows.map(f).filter((v): v is number => v !== undefined);
    return values.length > 0 ? roundedSpread(spread(values), 2) : undefined;
  };
  const guard = of((w) => w.guardUs?.median);
  const answered = of((w) => w.answeredUs?.median);
  const redisCpu = of((w) => w.redisCpuUsPerRequest);
  const redisCommands = of((w) => w.redisCommandsPerRequest);
  return {
    name: spec.name,
    label: spec.label,
    traffic: TRAFFIC_TEXT[spec.traffic](settings),
    windows,
    rps: of((w) => w.rps)!,
    ratioToBare: roundedSpread(spread(perRound), 3),
    ratioToBarePerRound: perRound,
    p50ms: of((w) => w.p50ms)!,
    p99ms: of((w) => w.p99ms)!,
    cpuUsPerRequest: of((w) => w.cpuUsPerRequest)!,
    ...(guard ? { guardUs: guard } : {}),
    ...(answered ? { answeredUs: answered } : {}),
    ...(redisCpu ? { redisCpuUsPerRequest: redisCpu } : {}),
    ...(redisCommands ? { redisCommandsPerRequest: redisCommands } : {}),
  };
}

function compare(name: string, a: CostVariant | undefined, b: CostVariant | undefined): Comparison | undefined {
  if (!a || !b) return undefined;
  const perRound = a.windows.map((w) => rounded(w.rps / (b.windows.find((x) => x.round === w.round)?.rps ?? Number.NaN), 3));
  return { name, perRound, ratio: roundedSpread(spread(perRound), 3) };
}

/** Whatever would make a window measure something other than its label says. */
function check(spec: VariantSpec, windows: readonly CostWindow[]): string[] {
  const notes: string[] = [];
  const errors = windows.reduce((a, w) => a + w.errors, 0);
  if (errors > 0) notes.push(`${spec.name}: ${errors} socket errors or timeouts over the windows`);
  const statuses: Record<string, number> = {};
  for (const w of windows) for (const [code, n] of Object.entries(w.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const other = Object.entries(statuses).filter(([code]) => !spec.statuses.includes(Number(code))).reduce((a, [, n]) => a + n, 0);
  if (other / Math.max(1, total) > 0.005) notes.push(`${spec.name}: ${other} of ${total} answers were not ${spec.statuses.join('/')} (${JSON.stringify(statuses)})`);
  if (spec.expect) {
    const decisions: Record<string, number> = {};
    for (const w of windows) for (const [action, n] of Object.entries(w.decisions ?? {})) decisions[action] = (decisions[action] ?? 0) + n;
    const all = Object.values(decisions).reduce((a, b) => a + b, 0);
    const off = all - (decisions[spec.expect] ?? 0);
    if (all === 0 || off / all > 0.005) notes.push(`${spec.name}: ${off} of ${all} decisions were not "${spec.expect}" (${JSON.stringify(decisions)})`);
    const degraded = windows.reduce((a, w) => a + (w.degraded ?? 0), 0);
    if (degraded > 0) notes.push(`${spec.name}: ${degraded} of ${all} decisions were served from the shield's in-process insurance (the store was slow or down)`);
  }
  return notes;
}

export async function runCostThroughput(settings: Settings, log: Log, only?: readonly string[]): Promise<CostThroughput> {
  const started = performance.now();
  const loadAverageStart = loadavg();
  const notes: string[] = [];
  const script = await compiledScript('bench/lib/login-server.ts');
  let redis: RedisProcess | undefined;
  const wantsRedis = only === undefined || VARIANTS.some((v) => v.redis && only.includes(v.name));
  if (wantsRedis && onPath('redis-server')) redis = await startRedis();
  else if (wantsRedis) notes.push('no redis-server binary on PATH: the Redis variants were skipped');
  const specs = VARIANTS.filter((v) => (!v.redis || redis) && (only === undefined || v.name === 'bare' || only.includes(v.name)));
  let live: Live[] = [];
  try {
    if (redis) await redisCall(redis.port, 'FLUSHALL');
    live = await startVariants(settings, specs, script, redis, log, notes);
    let windowIndex = 0;
    for (const v of live) {
      const w = await window(v, settings.warmupSec, settings.connections, windowIndex++, redis);
      log(`warm-up · ${v.spec.name}: ${describeWindow(w)}`);
    }
    const windows = new Map<string, CostWindow[]>(specs.map((s) => [s.name, []]));
    for (let round = 0; round < settings.rounds; round++) {
      for (const [position, v] of rotation(live, round).entries()) {
        const w = await window(v, settings.windowSec, settings.connections, windowIndex++, redis);
        windows.get(v.spec.name)!.push({ round, position, ...w });
        log(`round ${round + 1}/${settings.rounds} · ${v.spec.name}: ${describeWindow(w)}`);
      }
    }
    await Promise.all(live.map((v) => v.server.stop()));
    live = [];
    const bare = windows.get('bare') ?? [];
    const variants = specs.map((spec) => summarise(spec, settings, windows.get(spec.name)!, bare));
    for (const spec of specs) notes.push(...check(spec, windows.get(spec.name)!));
    const byName = (name: string) => variants.find((v) => v.name === name);
    const comparisons = [
      compare('shield-redis ÷ redis-floor', byName('shield-redis'), byName('redis-floor')),
      compare('shield-memory ÷ express-rate-limit', byName('shield-memory'), byName('express-rate-limit')),
      compare('shield-memory ÷ rate-limiter-flexible', byName('shield-memory'), byName('rate-limiter-flexible')),
    ].filter((c): c is Comparison => c !== undefined);
    const roundTrips = redis ? await measureRoundTrips(script, redis, log) : null;
    return {
      generatedAt: new Date().toISOString(),
      command: settings.name === 'full' ? 'npm run bench:throughput' : 'npm run bench:throughput -- --quick',
      mode: settings.name,
      commit: measuredCommit(),
      machine: { cpus: cpus().length, node: process.version, loadAverageStart: loadAverageStart.map((x) => rounded(x, 2)), loadAverageEnd: loadavg().map((x) => rounded(x, 2)) },
      settings: { ...settings, wrongEvery: WRONG_EVERY, order: 'one window per variant per round, the order rotated by one place each round' },
      server:
        'bench/lib/login-server.ts transpiled to plain JavaScript (no tsx loader), NODE_ENV=production, importing account-shield from the compiled dist/; one process per variant, all started before the first window; the Redis store with commandTimeoutMs 2000 (the package default 250 ms trips the fail-open insurance when the bench machine is saturated)',
      variants,
      comparisons,
      roundTrips,
      notes,
      wallSeconds: rounded((performance.now() - started) / 1000, 1),
    };
  } finally {
    await Promise.all(live.map((v) => v.server.stop()));
    await redis?.stop();
  }
}

/** The table of issue 12, from one run. */
export function costTable(result: CostThroughput): string {
  const lines = [
    "| variant | req/s (median) | ratio to bare, min / median / max | p50 / p99 ms (median) | server CPU µs per request, min / median / max | the guard's own µs in the server per login let through (entry to next(); on Redis with its round trip) · per login it answered (401, 429; until it hands the answer to Express): min / median / max of the windows' medians |",
    '|---|---|---|---|---|---|',
  ];
  for (const v of result.variants) {
    const ratio = v.name === 'bare' ? '1' : spreadText(v.ratioToBare);
    const redis = v.redisCpuUsPerRequest ? ` (+ redis-server ${v.redisCpuUsPerRequest.median.toFixed(0)})` : '';
    const guard = [v.guardUs ? `${spreadText(v.guardUs, 1)} let through` : '', v.answeredUs ? `${spreadText(v.answeredUs, 1)} answered` : ''].filter(Boolean).join(' · ');
    lines.push(`| ${v.label} | ${v.rps.median.toFixed(0)} | ${ratio} | ${v.p50ms.median} / ${v.p99ms.median} | ${spreadText(v.cpuUsPerRequest, 0)}${redis} | ${guard} |`);
  }
  for (const c of result.comparisons) lines.push(`| ${c.name} | | ${spreadText(c.ratio)} | | | |`);
  return lines.join('\n');
}

function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const base = args.includes('--quick') ? QUICK : FULL;
  const settings: Settings = { ...base, rounds: option('rounds') ?? base.rounds, windowSec: option('window') ?? base.windowSec };
  if (!(settings.rounds >= 1 && settings.windowSec >= 1)) throw new Error('--rounds and --window must be at least 1');
  const named = args.indexOf('--variants');
  const only = named >= 0 ? String(args[named + 1] ?? '').split(',').filter(Boolean) : undefined;
  const unknown = only?.filter((name) => !VARIANTS.some((v) => v.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`--variants: no variant named ${unknown.join(', ')}; the variants are ${VARIANTS.map((v) => v.name).join(', ')}`);
  const write = (settings.name === 'full' && only === undefined) || args.includes('--write');
  const log: Log = (line) => process.stderr.write(`[throughput ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  return runCostThroughput(settings, log, only).then(async (result) => {
    process.stdout.write(`${costTable(result)}\n`);
    if (result.roundTrips) {
      for (const p of [...result.roundTrips.shield, result.roundTrips.floor]) {
        process.stdout.write(`round trips · ${p.path}: ${p.roundTripsPerRequest.toFixed(2)} per request, ${p.commandsPerRequest} commands\n`);
      }
    }
    for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    if (write) {
      await writeCostPart('throughput', result);
      log('wrote cost.throughput in bench/results.json');
      log(await writeReadmePerformance());
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    // Idle keep-alive sockets and child-process handles must not hold the process open.
    () => process.exit(0),
    (error: unknown) => {
      console.error('[throughput] failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(1);
    },
  );
}
