/**
 * The throughput target, one process per variant. The cost bench runs it as plain JavaScript
 * on the compiled package (`compiledScript`, so `account-shield` is `dist/`); the older
 * benches still start it with `node --import tsx`, where tsconfig paths make it `src/`.
 *
 *   MODE=bare                   a login route doing the cheap work of any login (JSON parse,
 *                               field checks, user lookup, plain password compare, token or 401)
 *   MODE=express-rate-limit     the same behind express-rate-limit, one counter per IP
 *   MODE=rate-limiter-flexible  the same behind one RateLimiterMemory `consume` per IP
 *   MODE=redis-floor            the same after one pipelined read of 8 keys (REDIS_URL): what any
 *                               decision kept in Redis costs at least
 *   MODE=memory                 the same route behind `shield.login(...)` on the embedded store
 *   MODE=redis                  the same behind the shield on Redis (REDIS_URL), with the
 *                               store's command timeout at REDIS_COMMAND_TIMEOUT_MS (default
 *                               2000 here, 250 in the package): on a saturated 2-core bench
 *                               machine the event loop lags past 250 ms, one late reply trips the
 *                               shield onto its in-process insurance for a second and returning
 *                               users get stepped up, so the run would measure the fallback, not
 *                               the Redis path. The timer per command is there either way.
 *   METRICS=1                   with `shieldMetrics(shield)` attached
 *   POSTURE=adaptive            the shield's adaptive posture
 *
 * The password check is a plain string compare on purpose: scrypt would dominate and hide the
 * shield's own cost. The peers' limits are far above what the load sends one IP, so every
 * variant takes its allow path unless the load means otherwise. GET /stats reports the
 * process's CPU time (`process.cpuUsage()`, µs), the shield's decisions by action and outcome,
 * and how many were served from the insurance store (`degraded`), so the bench can divide CPU
 * by requests served and say which path it measured.
 * Prints `[login-server] listening on :<port>`.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';
import { createRedisStoreFromUrl, createShield, shieldMetrics } from 'account-shield';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { GuardTimes } from './cpu.js';
import { percentile } from './http.js';
import { BENCH_SECOND_FACTOR, benchEmail, benchPassword } from './load.js';

const SERVER_MODES = ['bare', 'express-rate-limit', 'rate-limiter-flexible', 'redis-floor', 'memory', 'redis'] as const;
type ServerMode = (typeof SERVER_MODES)[number];

/** Far above what the bench sends one IP in a window: the peers measure their allow path. */
const PEER_LIMIT = 1_000_000;
const PEER_WINDOW_SEC = 900;

async function main(): Promise<void> {
  const mode = (process.env.MODE ?? 'bare') as ServerMode;
  if (!SERVER_MODES.includes(mode)) throw new Error(`MODE must be one of ${SERVER_MODES.join(', ')}; got ${mode}`);
  const count = Number(process.env.USERS ?? 20_000);
  const users = new Map<string, { id: string; password: string }>();
  for (let i = 0; i < count; i++) users.set(benchEmail(i), { id: `u${i}`, password: benchPassword(i) });
  const check = (email: string, password: string) => {
    const user = users.get(email.toLowerCase());
    return user && user.password === password ? user.id : undefined;
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(express.json({ limit: '16kb' }));
  const issue = (res: Response) => res.json({ token: randomBytes(32).toString('base64url') });
  const plainLogin: RequestHandler = (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    const email = body?.email;
    const password = body?.password;
    if (typeof email !== 'string' || typeof password !== 'string' || email.length > 320 || password.length > 1024) {
      res.status(400).json({ error: 'bad_request' });
      return;
    }
    if (check(email, password) === undefined) {
      res.status(401).json({ error: 'invalid_credentials' });
      return;
    }
    issue(res);
  };

  const stats = { actions: {} as Record<string, number>, outcomes: {} as Record<string, number>, degraded: 0 };
  const closers: (() => Promise<unknown>)[] = [];

  if (mode === 'memory' || mode === 'redis') {
    const commandTimeoutMs = Number(process.env.REDIS_COMMAND_TIMEOUT_MS ?? 2000);
    const store = mode === 'redis' ? createRedisStoreFromUrl(String(process.env.REDIS_URL), { commandTimeoutMs }) : undefined;
    const shield = createShield({
      secret: 'bench-secret-0123456789abcdef-0123456789',
      app,
      ...(store ? { store } : {}),
      ...(process.env.POSTURE === 'adaptive' ? { posture: 'adaptive' as const } : {}),
    });
    closers.push(() => shield.close(), async () => store?.close());
    await shield.ready;
    // METRICS=1: with Prometheus metrics attached (bench/metrics-overhead.ts measures the cost).
    if (process.env.METRICS === '1') shieldMetrics(shield);
    shield.on('decision', (d) => {
      stats.actions[d.action] = (stats.actions[d.action] ?? 0) + 1;
      const o = d.outcome ?? '-';
      stats.outcomes[o] = (stats.outcomes[o] ?? 0) + 1;
      if (d.degraded) stats.degraded++;
    });
    app.post(
      '/auth/login',
      inServer(app, shield.login({ authenticate: (email, password) => ((id) => (id ? { userId: id } : null))(check(email, password)) })),
      (_req: Request, res: Response) => issue(res),
    );
    // Enrolment answers the default posture's step-up with a fixed code: the measured returning
    // users are on known devices, which are never asked.
    app.post(
      '/auth/login/verify',
      shield.stepUp({ verifySecondFactor: (_userId, code) => code === BENCH_SECOND_FACTOR }),
      (_req: Request, res: Response) => issue(res),
    );
    app.use(shield.errorHandler());
  } else if (mode === 'express-rate-limit') {
    const limiter = rateLimit({
      windowMs: PEER_WINDOW_SEC * 1000,
      limit: PEER_LIMIT,
      // Default key: req.ip, as most apps mount it.
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, res) => {
        res.status(429).json({ error: 'too_many_attempts' });
      },
    });
    app.post('/auth/login', limiter, plainLogin);
  } else if (mode === 'rate-limiter-flexible') {
    const limiter = new RateLimiterMemory({ points: PEER_LIMIT, duration: PEER_WINDOW_SEC });
    const consume = (req: Request, res: Response, next: NextFunction) => {
      limiter.consume(req.ip ?? 'unknown').then(
        () => next(),
        () => {
          res.status(429).json({ error: 'too_many_attempts' });
        },
      );
    };
    app.post('/auth/login', consume, plainLogin);
  } else if (mode === 'redis-floor') {
    const redis = new Redis(String(process.env.REDIS_URL), { lazyConnect: false });
    closers.push(() => redis.quit());
    app.post('/auth/login', floorRead(redis), plainLogin);
  } else {
    app.post('/auth/login', plainLogin);
  }
  app.get('/stats', (_req, res) => {
    res.json({ ...stats, cpu: process.cpuUsage(), gcUs: Math.round(gcTime.us), heapUsed: process.memoryUsage().heapUsed, guard: guardTimes.allowed.take(), answered: guardTimes.answered.take() });
  });

  const server = createServer(app);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`[login-server] listening on :${typeof address === 'object' && address ? address.port : 0} (mode ${mode})`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => {
      Promise.allSettled(closers.map((close) => close())).finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * The login guard's own time in the server: for a login it lets through, from its entry to its
 * `next()` (on the embedded store that part runs without a pause, so wall time is its cost; on
 * Redis it includes the round trip); for one it answers itself (401 step-up or invalid
 * credentials, 429), from its entry to handing the answer to Express (`res.json`). Whole-request
 * CPU carries Express, the socket and the machine's noise with it (±15 % from one window to the
 * next here); this is the shield's share alone, with Express's real request objects, which a
 * direct call of the middleware does not have. GET /stats hands out the samples since its last
 * call.
 */
class GuardSamples {
  private samples = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    this.samples[this.count++ & (this.samples.length - 1)] = ms;
  }

  /** µs: median, 10th and 90th percentiles and the number of samples since the last take. */
  take(): GuardTimes | undefined {
    const n = Math.min(this.count, this.samples.length);
    this.count = 0;
    if (n === 0) return undefined;
    const taken = this.samples.subarray(0, n);
    const at = (p: number) => Math.round(percentile(taken, p) * 10_000) / 10;
    return { n, p10: at(10), median: at(50), p90: at(90) };
  }
}

/**
 * The collector's pauses since start (µs), from the process's own GC entries: what a variant's
 * garbage and live heap cost, beside the CPU it is part of.
 */
const gcTime = { us: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcTime.us += entry.duration * 1000;
}).observe({ entryTypes: ['gc'] });

const guardTimes = { allowed: new GuardSamples(), answered: new GuardSamples() };
/**
 * One login in this many is timed: a sample of hundreds per window is plenty for a median, and
 * timing every login would charge the shield's variants (and no other) a WeakMap write, read
 * and delete and a wrapped `next` per request.
 */
const TIME_EVERY = 8;
/** When the guard of a timed request still deciding was entered (until it lets it through or answers). */
const enteredAt = new WeakMap<Response, number>();
/** Timed requests still deciding: while there are none, an answer needs no lookup. */
let deciding = 0;

function inServer(app: express.Express, guard: RequestHandler): RequestHandler {
  // A refusal ends where the guard hands its answer to Express (every one is JSON), before
  // Express serialises and writes it: what the writing costs, bare Express's 401 costs too.
  const json = app.response.json;
  app.response.json = function timedJson(this: Response, body: unknown) {
    const entered = deciding === 0 ? undefined : enteredAt.get(this);
    if (entered !== undefined) {
      guardTimes.answered.add(performance.now() - entered);
      enteredAt.delete(this);
      deciding--;
    }
    return json.call(this, body);
  };
  let logins = 0;
  return (req, res, next) => {
    if (++logins % TIME_EVERY !== 0) return guard(req, res, next);
    enteredAt.set(res, performance.now());
    deciding++;
    return guard(req, res, (error?: unknown) => {
      const entered = enteredAt.get(res);
      if (entered !== undefined) {
        enteredAt.delete(res);
        deciding--;
        guardTimes.allowed.add(performance.now() - entered);
      }
      next(error);
    });
  };
}

/**
 * One ioredis pipeline of 8 GETs per request (as many counters as one IPv4 login decision reads), on keys shaped like the shield's counter
 * keys (per IP, subnet, account, IP+account, time bucket) so Redis does comparable work. The
 * key ids are a cheap string hash: the floor is the round trip, not identifier keying.
 */
function floorRead(redis: Redis): RequestHandler {
  return (req, _res, next) => {
    const ip = req.ip ?? 'unknown';
    const body = req.body as Record<string, unknown> | undefined;
    const account = hash(String(body?.email ?? ''));
    const ipId = hash(ip);
    const subnet = hash(ip.slice(0, ip.lastIndexOf('.')));
    const bucket = Math.floor(Date.now() / 60_000);
    redis
      .pipeline()
      .get(`floor:rl:fail_ip:${ipId}`)
      .get(`floor:rl:fail_net:${subnet}`)
      .get(`floor:rl:listed_ip:${ipId}`)
      .get(`floor:rl:fail_ipacct:{${account}}:${ipId}`)
      .get(`floor:rl:accts_ip:${ipId}`)
      .get(`floor:rl:fail_acct:{${account}}`)
      .get(`floor:rl:wave_ev:all:${bucket}`)
      .get(`floor:rl:wave_ev:all:${bucket - 1}`)
      .exec()
      .then(
        () => next(),
        (error: unknown) => next(error),
      );
  };
}

/** FNV-1a, 32 bits, base 36: a short stand-in for the shield's 22-character keyed ids. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36).padStart(7, '0');
}

main().catch((error: unknown) => {
  console.error('[login-server] failed:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});
