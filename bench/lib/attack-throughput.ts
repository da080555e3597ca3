/**
 * The attack bench's cost section (`npm run bench` runs it after the scenarios; its figures go
 * to REPORT.md and the throughput goals there). The fuller cost bench, with the peers, server
 * CPU per request and the attack paths, is `npm run bench:throughput` (bench/throughput.ts).
 *
 * 1. HTTP throughput (autocannon) of a login route: bare Express vs the same route behind the
 *    shield on the memory store, and on Redis when a `redis-server` binary exists (a private
 *    server on a free port, never 6379). Each variant in its own process, same duration, in
 *    alternating order over the rounds.
 * 2. The example exchange's real login (scrypt) with PROTECTION=none vs shield.
 * 3. In-process decision overhead p50/p99 (`elapsedMs` of each decision, one at a time).
 * 4. zxcvbn's worst case on adversarial inputs: the shield's bounded check vs raw zxcvbn.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import autocannon from 'autocannon';
import { generate, generateSecret } from 'otplib';
import { createRedisStoreFromUrl } from '../../src/index.js';
import { type RedisProcess, startRedis } from '../../test/support/redis.js';
import { redisCall } from '../../test/support/resp.js';
import { decisionOverhead, type OverheadResult } from './decision-overhead.js';
import { Target } from './http.js';
import { benchEmail, benchPassword, enrolAccounts, rotatingLogin, type Stream, WRONG_EVERY } from './load.js';
import type { Mode } from './modes.js';
import { onPath } from './on-path.js';
import { type ServerProcess, startServer } from './processes.js';
import { type ZxcvbnRow, zxcvbnWorstCase } from './zxcvbn-worst.js';
import { getJson } from './cpu.js';

export interface LoadRun {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  /** The shield's decisions during the run, by action (what path was measured). */
  readonly shieldActions?: Record<string, number>;
}

export interface Variant {
  readonly name: string;
  readonly runs: LoadRun[];
  /** Mean over the rounds. */
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

export interface PathComparison {
  readonly name: string;
  readonly path: string;
  readonly variants: Variant[];
  readonly bareRps: number;
  readonly memoryRps: number;
  readonly memoryRatio: number;
  readonly redisRps: number | null;
  readonly redisRatio: number | null;
  /** shield ÷ bare per window pair (same round): the spread shows how noisy the machine was. */
  readonly roundRatios: { memory: number[]; redis: number[] };
}

export interface ThroughputResult {
  readonly bareExpressRps: number;
  readonly shieldMemoryRps: number;
  readonly ratio: number;
  readonly shieldRedisRps: number | null;
  readonly redisRatio: number | null;
  /** Which decision path the headline numbers measured. */
  readonly path: string;
  readonly durationSec: number;
  readonly scryptDurationSec: number;
  /** Measurement windows per variant. */
  readonly rounds: number;
  readonly connections: number;
  /** Every load path measured; the first is the headline. */
  readonly paths: PathComparison[];
  readonly exampleScrypt: { noneRps: number; shieldRps: number; ratio: number; roundRatios: number[]; medianRoundRatio: number; variants: Variant[] };
  readonly decisionOverhead: OverheadResult[];
  readonly zxcvbn: { rawCapMs: number; rows: ZxcvbnRow[] };
  readonly notes: string[];
}

type Log = (line: string) => void;

const LOGIN_SERVER = 'bench/lib/login-server.ts';
const EXAMPLE_MAIN = 'bench/exchange/launcher.ts';
const EXAMPLE_USERS = 40;
/** Fresh accounts for the first-login load come after the returning ones. */
const FRESH_ACCOUNTS = 40_000;

interface PathSpec {
  readonly name: string;
  readonly describe: (accounts: number) => string;
  readonly stream: (accounts: number, cookies: readonly (string | undefined)[]) => Stream;
  readonly quick: boolean;
}

const COMMON =
  `1 in ${WRONG_EVERY} with a wrong password (401), the rest right (200); no counter near a limit and a failure ratio under the wave detector's 30 %, ` +
  'so the shield reads every counter, scores, allows and records each attempt';

/** The load paths, headline first. */
export const PATHS: readonly PathSpec[] = [
  {
    name: 'returning users, usual address',
    describe: (n) => `${n.toLocaleString('en')} accounts, each logged in once from its usual address before the measurement and sending its device cookie from there; ${COMMON}`,
    stream: (n, cookies) => ({ users: n, cookies, fromHome: true }),
    quick: true,
  },
  {
    name: 'returning users, new address each request',
    describe: (n) =>
      `the same ${n.toLocaleString('en')} accounts and cookies, but every request from a client address never seen before (millions of /24s): the worst case for the shield's memo of keyed identifiers; ${COMMON}`,
    stream: (n, cookies) => ({ users: n, cookies }),
    quick: false,
  },
  {
    name: 'first logins',
    describe: () =>
      `every request a new device on an account not seen before, from a new address: the shield also scores the password with zxcvbn (bounded) and remembers the device; ${COMMON}`,
    stream: (n) => {
      let fresh = 0;
      return { users: FRESH_ACCOUNTS, account: () => n + (fresh++ % FRESH_ACCOUNTS) };
    },
    quick: false,
  },
];

let streamOffset = 0;

function load(port: number, seconds: number, connections: number, stream: Stream): Promise<autocannon.Result> {
  streamOffset += 10_000_000;
  return autocannon({ url: `http://127.0.0.1:${port}`, connections, duration: seconds, requests: [rotatingLogin(streamOffset, stream)] });
}

type Stats = { actions?: Record<string, number> } | undefined;

async function measure(port: number, seconds: number, connections: number, stream: Stream): Promise<LoadRun> {
  const before = (await getJson(port, '/stats').catch(() => undefined)) as Stats;
  const r = await load(port, seconds, connections, stream);
  const after = (await getJson(port, '/stats').catch(() => undefined)) as Stats;
  let shieldActions: Record<string, number> | undefined;
  if (after?.actions && Object.keys(after.actions).length > 0) {
    shieldActions = {};
    for (const [k, v] of Object.entries(after.actions)) shieldActions[k] = v - (before?.actions?.[k] ?? 0);
  }
  const total = r['2xx'] + r.non2xx;
  return { rps: total / r.duration, p50ms: r.latency.p50, p99ms: r.latency.p99, ok2xx: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, shieldActions };
}

function summarise(name: string, runs: LoadRun[]): Variant {
  const mean = (f: (r: LoadRun) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  return { name, runs, rps: mean((r) => r.rps), p50ms: mean((r) => r.p50ms), p99ms: mean((r) => r.p99ms) };
}

function describe(r: LoadRun): string {
  return `${r.rps.toFixed(0)} req/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, ${r.non2xx} non-2xx, ${r.errors} errors${r.shieldActions ? ` · decisions ${JSON.stringify(r.shieldActions)}` : ''}`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function compare(name: string, path: string, runs: Map<string, LoadRun[]>): PathComparison {
  const variants = [...runs.entries()].filter(([, r]) => r.length > 0).map(([name, r]) => summarise(name, r));
  const rps = (name: string) => variants.find((v) => v.name === name)?.rps;
  const perRound = (name: string) => {
    const bare = runs.get('bare') ?? [];
    return (runs.get(name) ?? []).map((r, i) => r.rps / (bare[i]?.rps ?? Number.NaN));
  };
  const bare = rps('bare') ?? Number.NaN;
  const memory = rps('shield-memory') ?? Number.NaN;
  const redis = rps('shield-redis') ?? null;
  return {
    name,
    path,
    variants,
    bareRps: bare,
    memoryRps: memory,
    memoryRatio: memory / bare,
    redisRps: redis,
    redisRatio: redis === null ? null : redis / bare,
    roundRatios: { memory: perRound('shield-memory'), redis: redis === null ? [] : perRound('shield-redis') },
  };
}

/** Windows in alternating order (A B C, C B A, ...), so drift on a shared machine hits every variant alike. */
async function alternate(names: readonly string[], rounds: number, window: (name: string, round: number) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) await window(name, round);
  }
}

export async function runThroughput(mode: Mode, log: Log): Promise<ThroughputResult> {
  const t = mode.throughput;
  const accounts = t.returningAccounts;
  const paths = PATHS.filter((p) => mode.name === 'full' || p.quick);
  const notes: string[] = [];
  let redis: RedisProcess | undefined;
  if (onPath('redis-server')) {
    try {
      redis = await startRedis();
    } catch (error) {
      notes.push(`redis-server found but could not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  } else {
    notes.push('no redis-server binary on PATH: the Redis variant was skipped');
  }

  const servers: ServerProcess[] = [];
  try {
    // 1. bare vs shield (memory, redis): one long-lived process per variant, enrolled and warmed
    //    once, then short windows in alternating order, every path in each window.
    const names = redis ? ['bare', 'shield-memory', 'shield-redis'] : ['bare', 'shield-memory'];
    if (redis) await redisCall(redis.port, 'FLUSHALL');
    const live = new Map<string, { port: number; streams: Stream[] }>();
    const started = await Promise.all(
      names.map((name) =>
        startServer({
          args: ['--import', 'tsx', LOGIN_SERVER],
          env: {
            MODE: name === 'bare' ? 'bare' : name === 'shield-memory' ? 'memory' : 'redis',
            REDIS_URL: redis?.url ?? '',
            USERS: String(accounts + FRESH_ACCOUNTS),
          },
          ready: /\[login-server\] listening on :(\d+)/,
          timeoutMs: 60_000,
        }),
      ),
    );
    servers.push(...started);
    for (const [k, name] of names.entries()) {
      const server = started[k]!;
      const target = new Target(server.port, 16);
      const cookies = await enrolAccounts(target, accounts).finally(() => target.close());
      const streams = paths.map((p) => p.stream(accounts, cookies));
      if (t.warmupSec > 0) await load(server.port, t.warmupSec, t.connections, streams[0]!);
      live.set(name, { port: server.port, streams });
    }
    const runs = paths.map(() => new Map<string, LoadRun[]>(names.map((n) => [n, []])));
    await alternate(names, t.rounds, async (name, round) => {
      const v = live.get(name)!;
      for (const [i, path] of paths.entries()) {
        const r = await measure(v.port, t.durationSec, t.connections, v.streams[i]!);
        runs[i]!.get(name)!.push(r);
        log(`throughput ${path.name} · ${name} · window ${round + 1}: ${describe(r)}`);
      }
    });
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    // The paths are meant to stay on "allow": say so when the shield decided otherwise.
    for (const [i, path] of paths.entries()) {
      for (const [name, list] of runs[i]!) {
        const totals: Record<string, number> = {};
        for (const r of list) for (const [k, v] of Object.entries(r.shieldActions ?? {})) totals[k] = (totals[k] ?? 0) + v;
        const all = Object.values(totals).reduce((a, b) => a + b, 0);
        const other = all - (totals.allow ?? 0);
        if (all > 0 && other / all > 0.005) notes.push(`${path.name} · ${name}: ${other} of ${all} decisions were not "allow" (${JSON.stringify(totals)}): not purely the normal path`);
      }
    }

    // 2. the example's real login (scrypt), PROTECTION=none vs shield, same rotating traffic.
    const dir = await mkdtemp(join(tmpdir(), 'account-shield-bench-'));
    const scrypt = new Map<string, LoadRun[]>([
      ['example-none', []],
      ['example-shield', []],
    ]);
    try {
      const usersFile = join(dir, 'users.json');
      const seed = Array.from({ length: EXAMPLE_USERS }, (_, i) => ({ email: benchEmail(i), password: benchPassword(i), totpSecret: generateSecret() }));
      await writeFile(usersFile, JSON.stringify(seed), { mode: 0o600 });
      const example = new Map<string, { port: number; stream: Stream }>();
      const exampleNames = [...scrypt.keys()];
      const exampleServers = await Promise.all(
        exampleNames.map((name) =>
          startServer({
            args: ['--import', 'tsx', EXAMPLE_MAIN],
            env: {
              PORT: '0',
              PROTECTION: name === 'example-none' ? 'none' : 'shield',
              TRUST_PROXY: 'loopback',
              SHIELD_SECRET: 'bench-example-secret-0123456789abcdef01',
              EXAMPLE_USERS: usersFile,
              LEAKED_ADDRESSES: '',
              REDIS_URL: '',
            },
            ready: /\[exchange\] listening on :(\d+)/,
            timeoutMs: 120_000,
          }),
        ),
      );
      servers.push(...exampleServers);
      for (const [k, name] of exampleNames.entries()) {
        const server = exampleServers[k]!;
        const target = new Target(server.port, 8);
        const cookies = await enrolAccounts(target, EXAMPLE_USERS, 8, (user) =>
          generate({ secret: seed[user]!.totpSecret, epoch: Math.floor(Date.now() / 1000) }),
        ).finally(() => target.close());
        example.set(name, { port: server.port, stream: { users: EXAMPLE_USERS, cookies, fromHome: true } });
      }
      await alternate([...scrypt.keys()], t.rounds, async (name, round) => {
        const v = example.get(name)!;
        const r = await measure(v.port, t.scryptDurationSec, 8, v.stream);
        scrypt.get(name)!.push(r);
        log(`example scrypt login   ${name.padEnd(14)} window ${round + 1}: ${describe(r)}`);
      });
    } finally {
      await Promise.all(servers.splice(0).map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    }
    const scryptVariants = [...scrypt.entries()].map(([name, runs]) => summarise(name, runs));
    const scryptRps = (name: string) => scryptVariants.find((v) => v.name === name)?.rps ?? Number.NaN;
    const scryptRounds = (scrypt.get('example-shield') ?? []).map((r, i) => r.rps / (scrypt.get('example-none')?.[i]?.rps ?? Number.NaN));

    // 3. in-process decision overhead, one request at a time.
    const overheadAccounts = mode.name === 'quick' ? 300 : 1_000;
    const overhead: OverheadResult[] = [await decisionOverhead('memory', overheadAccounts, t.decisions)];
    if (redis) {
      await redisCall(redis.port, 'FLUSHALL');
      const store = createRedisStoreFromUrl(redis.url);
      try {
        overhead.push(await decisionOverhead('redis', overheadAccounts, t.decisions, store));
      } finally {
        await store.close();
      }
    }
    for (const o of overhead) {
      log(
        `decision overhead (${o.store}): returning p50 ${o.returning.p50ms.toFixed(3)} ms p99 ${o.returning.p99ms.toFixed(3)} ms ${JSON.stringify(o.returning.actions)}; ` +
          `first login p50 ${o.firstLogin.p50ms.toFixed(3)} ms p99 ${o.firstLogin.p99ms.toFixed(3)} ms`,
      );
    }

    // 4. zxcvbn's worst case.
    const rawCapMs = mode.name === 'quick' ? 1_000 : 2_000;
    const lengths = mode.name === 'quick' ? [12, 20, 32, 100] : [12, 16, 20, 24, 32, 48, 64, 100];
    const zx = await zxcvbnWorstCase(lengths, rawCapMs);
    log(`zxcvbn: worst bounded ${Math.max(...zx.map((r) => r.boundedMs)).toFixed(2)} ms, worst raw ${Math.max(...zx.map((r) => r.rawMs ?? 0)).toFixed(0)} ms (cap ${rawCapMs} ms)`);

    const compared = paths.map((p, i) => compare(p.name, p.describe(accounts), runs[i]!));
    const ret = compared[0]!;
    return {
      bareExpressRps: ret.bareRps,
      shieldMemoryRps: ret.memoryRps,
      ratio: ret.memoryRatio,
      shieldRedisRps: ret.redisRps,
      redisRatio: ret.redisRatio,
      path: `${ret.name}: ${ret.path}`,
      durationSec: t.durationSec,
      scryptDurationSec: t.scryptDurationSec,
      rounds: t.rounds,
      connections: t.connections,
      paths: compared,
      exampleScrypt: {
        noneRps: scryptRps('example-none'),
        shieldRps: scryptRps('example-shield'),
        ratio: scryptRps('example-shield') / scryptRps('example-none'),
        roundRatios: scryptRounds,
        medianRoundRatio: median(scryptRounds),
        variants: scryptVariants,
      },
      decisionOverhead: overhead,
      zxcvbn: { rawCapMs, rows: zx },
      notes,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redis?.stop();
  }
}
