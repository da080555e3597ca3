/**
 * The shield's own time per login decision with no HTTP and no sockets: the middleware that
 * `shield.login(...)` returns (public API, compiled dist/: run this file through
 * `compiledScript`, as bench/in-process.ts does), called directly with minimal request and
 * response objects on the embedded store, one call at a time, each awaited.
 *
 * Paths, each a batch of calls per round, the order rotated each round, against a baseline
 * measured in the same rounds (an empty async middleware, through the same harness), and the
 * app's own share of a login (its `authenticate` alone, which a guarded success calls too):
 * - returning-success: an enrolled account on its known device, from home, right password;
 * - new-device-challenge: an account the shield never saw, no cookie, a new address per
 *   call: a step-up answer;
 * - blocked-source: no cookie, from an address that failed past the per-IP limit: a 429.
 * Calls follow each other without a turn of the event loop, so what the shield defers
 * (setImmediate, the store's sweep timer) runs between batches, untimed: the figures are the
 * decision's own time; the HTTP bench's CPU per request is where everything is counted.
 * Wall time and the process's CPU time (`process.cpuUsage()`, which a busy shared machine
 * disturbs less) per call, both. Request objects are built before each batch is timed;
 * `gc()` runs before each batch when node has --expose-gc, so a batch pays for its own
 * garbage. Prints the result as JSON.
 *
 * Cold rows: the same paths with the processor's caches swept between calls (COLD_KB of
 * memory written, 4 MB by default, untimed; each call timed alone). Back to back, a call
 * finds the shield's memos, store entries and code in cache; in a server, the HTTP parser,
 * Express and the socket writes between two logins evict them, and the same decision there
 * costs 2-3 times as much: the cold rows are closer to what a server's CPU per request sees
 * of the shield, and they count the cache misses the hot rows hide. Wall time only: the
 * sweep's own CPU would be counted in a CPU figure.
 */
import { createShield } from 'account-shield';
import type { Request, RequestHandler } from 'express';
import { blockedTraffic, FAILURES_TO_BLOCK, newDeviceTraffic, returningLogin, sourceSet } from './cost-traffic.js';
import { BENCH_SECOND_FACTOR, benchEmail, benchPassword, homeIp, type LoginRequest } from './load.js';
import { call, type Outcome } from './direct-call.js';
import { rotation, rounded, roundedSpread, spread } from './spread.js';

const ROUNDS = Number(process.env.ROUNDS ?? 11);
const CALLS = Number(process.env.CALLS ?? 4_000);
const ACCOUNTS = 2_000;
const ATTACK_ACCOUNTS = 200_000;
const SOURCES = 64;
/** PATHS=returning-success,blocked-source: time only those (with the baseline), e.g. under --cpu-prof. */
const ONLY = process.env.PATHS?.split(',').filter(Boolean);
/** PROFILE=file.cpuprofile: a CPU profile of the timed rounds only (not the set-up, not the warm-up). */
const PROFILE = process.env.PROFILE;
/** MARK=text: printed when the timed rounds begin, so a `--trace-deopt` reader can tell them from the set-up. */
const MARK = process.env.MARK;
/** COLD_KB=n: memory swept between the calls of a cold row (0: no cold rows). */
const COLD_KB = Number(process.env.COLD_KB ?? 4096);
/** Cold calls per batch: each is preceded by a sweep, so fewer are enough. */
const COLD_CALLS = Math.max(1, Math.floor(CALLS / 4));
/** Cold rows' requests come from their own stretch of the traffic (fresh addresses stay fresh). */
const COLD_OFFSET = 300_000_000;
/** What the sweeps write: one int per 64-byte cache line. */
const sweepArea = new Int32Array(COLD_KB * 256);

function sweepCaches(): void {
  for (let i = 0; i < sweepArea.length; i += 16) sweepArea[i] = (sweepArea[i] as number) + 1;
}

/** Express's request as far as the shield reads it (no `app`: no proxy, `ip` is the client). */
function request(login: LoginRequest | { ip: string; cookie?: string; body: Record<string, unknown> }, path: string): Request {
  const body = typeof login.body === 'string' ? (JSON.parse(login.body) as Record<string, unknown>) : login.body;
  return {
    body,
    path,
    ip: login.ip,
    secure: false,
    headers: login.cookie ? { cookie: login.cookie } : {},
    socket: { remoteAddress: login.ip },
  } as unknown as Request;
}


interface PathSpec {
  readonly name: string;
  readonly label: string;
  readonly middleware: RequestHandler;
  /** The i-th request of the path (i counts over every batch, so addresses stay fresh). */
  readonly request: (i: number) => Request;
  readonly expect: Outcome;
  readonly targetUs?: number;
  /** A cold row: caches swept before each call (see the header). */
  readonly cold?: boolean;
}

export interface InProcessPath {
  readonly name: string;
  readonly label: string;
  readonly usPerCall: { min: number; median: number; max: number };
  readonly usPerCallPerRound: number[];
  /** The process's CPU time per call (user + system, GC threads included); none for a cold row. */
  readonly cpuUsPerCall?: { min: number; median: number; max: number };
  readonly cpuUsPerCallPerRound?: number[];
  /** Caches swept before each call (a cold row). */
  readonly cold?: boolean;
  /** Median minus the baseline's median (the cold baseline's for a cold row): what the shield adds to a middleware call. */
  readonly overBaselineUs: number;
  readonly targetUs?: number;
  readonly unexpected: number;
}

export interface InProcessResult {
  readonly generatedAt: string;
  /** Set by the runner (bench/in-process.ts): what was measured and how to repeat it. */
  readonly commit?: string;
  readonly command?: string;
  readonly node: string;
  readonly rounds: number;
  readonly callsPerBatch: number;
  readonly gcBetweenBatches: boolean;
  readonly method: string;
  readonly paths: InProcessPath[];
}

/** The inspector's sampling profiler over this process, from now until `stop(file)`. */
async function startProfile(): Promise<{ stop: (file: string) => Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  return {
    stop: async (file) => {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const shield = createShield({ secret: 'bench-in-process-secret-0123456789abcdef' });
  await shield.ready;
  const users = new Map<string, string>();
  for (let i = 0; i < ACCOUNTS + ATTACK_ACCOUNTS; i++) users.set(benchEmail(i), benchPassword(i));
  // The app's own work, measured alone by the app-work path: the shield's share is what a guarded call adds to it.
  const authenticate = (email: string, password: string) => (users.get(email) === password ? { userId: email } : null);
  const login = shield.login({ authenticate });
  const stepUp = shield.stepUp({ verifySecondFactor: (_userId, code) => code === BENCH_SECOND_FACTOR });

  // Enrolment: login (step-up answer), then the second factor: the device becomes known.
  const cookies: string[] = [];
  for (let user = 0; user < ACCOUNTS; user++) {
    const ip = homeIp(user);
    const first = await call(login, request({ ip, body: { email: benchEmail(user), password: benchPassword(user) } }, '/auth/login'));
    const challenge = (first.res.body as { challenge?: string } | undefined)?.challenge;
    if (!challenge) throw new Error(`enrolment login of account ${user} answered ${first.outcome}, not a step-up`);
    const verified = await call(stepUp, request({ ip, body: { challenge, code: BENCH_SECOND_FACTOR } }, '/auth/login/verify'));
    const setCookie = [verified.res.headers['set-cookie'] ?? []].flat()[0];
    if (verified.outcome !== 'next' || !setCookie) throw new Error(`enrolment step-up of account ${user} answered ${verified.outcome}`);
    cookies[user] = setCookie.split(';')[0] as string;
  }
  // Blocked sources: each fails past the per-IP limit before anything is timed.
  const sources = sourceSet(0, SOURCES);
  for (const [k, ip] of sources.entries()) {
    for (let j = 0; j < FAILURES_TO_BLOCK; j++) {
      await call(login, request({ ip, body: { email: benchEmail(ACCOUNTS + k * FAILURES_TO_BLOCK + j), password: 'not-the-password' } }, '/auth/login'));
    }
  }

  const empty: RequestHandler = async (_req, _res, next) => {
    next();
  };
  const appWork: RequestHandler = async (req, _res, next) => {
    const { email, password } = req.body as { email: string; password: string };
    if (authenticate(email, password)) next();
  };
  const fresh = newDeviceTraffic(ACCOUNTS, ATTACK_ACCOUNTS);
  const blocked = blockedTraffic(ACCOUNTS, ATTACK_ACCOUNTS, sources);
  const returning = (i: number) => request(returningLogin(i % ACCOUNTS, false, cookies), '/auth/login');
  const paths: PathSpec[] = [
    { name: 'baseline', label: 'an empty async middleware, same harness', middleware: empty, request: returning, expect: 'next' },
    // Part of a returning user's success is the app's own `authenticate` (a lookup in a Map of 202,000 users).
    { name: 'app-work', label: "the app's own work alone: the same authenticate, returning users", middleware: appWork, request: returning, expect: 'next' },
    { name: 'returning-success', label: "returning user's successful login (known device, usual address)", middleware: login, request: returning, expect: 'next', targetUs: 10 },
    { name: 'new-device-challenge', label: 'new device: step-up answer', middleware: login, request: (i) => request(fresh.request(i), '/auth/login'), expect: 401, targetUs: 40 },
    { name: 'blocked-source', label: 'a source over its limit: 429', middleware: login, request: (i) => request(blocked.request(i), '/auth/login'), expect: 429, targetUs: 10 },
  ];

  if (COLD_KB > 0) {
    for (const p of [...paths]) {
      if (p.name === 'app-work') continue;
      paths.push({ ...p, name: `${p.name}-cold`, label: `${p.label}, caches swept`, request: (i) => p.request(COLD_OFFSET + i), targetUs: undefined, cold: true });
    }
  }
  if (ONLY) paths.splice(0, paths.length, ...paths.filter((p) => p.name === 'baseline' || p.name === 'baseline-cold' || ONLY.includes(p.name)));
  const gc = (globalThis as { gc?: () => void }).gc;
  const next = new Map(paths.map((p) => [p.name, 0]));
  const batch = async (path: PathSpec): Promise<{ us: number; cpuUs: number; unexpected: number }> => {
    const calls = path.cold ? COLD_CALLS : CALLS;
    const from = next.get(path.name)!;
    next.set(path.name, from + calls);
    const requests = Array.from({ length: calls }, (_, k) => path.request(from + k));
    gc?.();
    let unexpected = 0;
    let elapsed: number;
    const cpuStart = process.cpuUsage();
    if (path.cold) {
      let timed = 0n;
      for (const req of requests) {
        sweepCaches();
        const started = process.hrtime.bigint();
        const { outcome } = await call(path.middleware, req);
        timed += process.hrtime.bigint() - started;
        if (outcome !== path.expect) unexpected++;
      }
      elapsed = Number(timed) / 1e3;
    } else {
      const started = process.hrtime.bigint();
      for (const req of requests) {
        const { outcome } = await call(path.middleware, req);
        if (outcome !== path.expect) unexpected++;
      }
      elapsed = Number(process.hrtime.bigint() - started) / 1e3;
    }
    const cpu = process.cpuUsage(cpuStart);
    // What the shield defers (setImmediate, timers such as the store's sweep) runs here,
    // between batches: the figures are the decision's own time.
    await new Promise((resolve) => setTimeout(resolve, 10));
    return { us: elapsed / calls, cpuUs: (cpu.user + cpu.system) / calls, unexpected };
  };

  // One untimed pass warms the JIT and learns each returning account's password quality.
  for (const path of paths) await batch(path);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const profiler = PROFILE ? await startProfile() : undefined;
  if (MARK) process.stdout.write(`${MARK}\n`);
  const perRound = new Map<string, number[]>(paths.map((p) => [p.name, []]));
  const cpuPerRound = new Map<string, number[]>(paths.map((p) => [p.name, []]));
  const unexpected = new Map<string, number>(paths.map((p) => [p.name, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of rotation(paths, round)) {
      const r = await batch(path);
      perRound.get(path.name)!.push(rounded(r.us, 2));
      cpuPerRound.get(path.name)!.push(rounded(r.cpuUs, 2));
      unexpected.set(path.name, unexpected.get(path.name)! + r.unexpected);
    }
  }
  if (profiler && PROFILE) await profiler.stop(PROFILE);
  const baseline = spread(perRound.get('baseline')!).median;
  const coldBaseline = perRound.has('baseline-cold') ? spread(perRound.get('baseline-cold')!).median : Number.NaN;
  const result: InProcessResult = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    callsPerBatch: CALLS,
    gcBetweenBatches: gc !== undefined,
    method:
      'direct calls of the middleware shield.login(...) returns (compiled dist/, embedded store), minimal req/res objects, one call at a time and awaited, no event-loop turn between calls (deferred work runs between batches, untimed); wall time and process CPU time of each batch ÷ calls; paths in rotated order each round, with the baseline in the same rounds',
    paths: paths.map(
      (p): InProcessPath => ({
        name: p.name,
        label: p.label,
        usPerCall: roundedSpread(spread(perRound.get(p.name)!), 2),
        usPerCallPerRound: perRound.get(p.name)!,
        ...(p.cold ? { cold: true } : { cpuUsPerCall: roundedSpread(spread(cpuPerRound.get(p.name)!), 2), cpuUsPerCallPerRound: cpuPerRound.get(p.name)! }),
        overBaselineUs: rounded(spread(perRound.get(p.name)!).median - (p.cold ? coldBaseline : baseline), 2),
        ...(p.targetUs !== undefined ? { targetUs: p.targetUs } : {}),
        unexpected: unexpected.get(p.name)!,
      }),
    ),
  };
  await shield.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('[in-process] failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
