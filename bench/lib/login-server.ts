/**
 * The throughput target, one process per variant (`node --import tsx bench/lib/login-server.ts`):
 *
 *   MODE=bare     a login route doing the cheap work of any login (JSON parse, field checks,
 *                 user lookup, plain password compare, token or 401), no protection
 *   MODE=memory   the same route behind `shield.login(...)` on the embedded store
 *   MODE=redis    the same behind the shield on Redis (REDIS_URL)
 *   METRICS=1     with `shieldMetrics(shield)` attached
 *   POSTURE=adaptive  the shield's adaptive posture (the enrolment logins then need no step-up route)
 *
 * The password check is a plain string compare on purpose: scrypt would dominate and hide the
 * shield's own cost (the example's real scrypt login is measured separately). GET /stats
 * reports the shield's decisions by action and outcome, so the bench can say which path it
 * measured. Prints `[login-server] listening on :<port>`.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import express, { type Request, type Response } from 'express';
import { createRedisStoreFromUrl, createShield, shieldMetrics } from '../../src/index.js';
import { BENCH_SECOND_FACTOR, benchEmail, benchPassword } from './load.js';

async function main(): Promise<void> {
  const mode = process.env.MODE ?? 'bare';
  if (!['bare', 'memory', 'redis'].includes(mode)) throw new Error(`MODE must be bare, memory or redis; got ${mode}`);
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

  const stats = { actions: {} as Record<string, number>, outcomes: {} as Record<string, number> };
  const store = mode === 'redis' ? createRedisStoreFromUrl(String(process.env.REDIS_URL)) : undefined;
  const shield =
    mode === 'bare'
      ? undefined
      : createShield({
          secret: 'bench-secret-0123456789abcdef-0123456789',
          app,
          ...(store ? { store } : {}),
          ...(process.env.POSTURE === 'adaptive' ? { posture: 'adaptive' as const } : {}),
        });
  if (shield) {
    await shield.ready;
    // METRICS=1: with Prometheus metrics attached (bench/metrics-overhead.ts measures the cost).
    if (process.env.METRICS === '1') shieldMetrics(shield);
    shield.on('decision', (d) => {
      stats.actions[d.action] = (stats.actions[d.action] ?? 0) + 1;
      const o = d.outcome ?? '-';
      stats.outcomes[o] = (stats.outcomes[o] ?? 0) + 1;
    });
    app.post(
      '/auth/login',
      shield.login({ authenticate: (email, password) => ((id) => (id ? { userId: id } : null))(check(email, password)) }),
      (_req: Request, res: Response) => issue(res),
    );
    // Enrolment answers the default posture's step-up with a fixed code: the measured load is
    // returning users on known devices, which are never asked.
    app.post(
      '/auth/login/verify',
      shield.stepUp({ verifySecondFactor: (_userId, code) => code === BENCH_SECOND_FACTOR }),
      (_req: Request, res: Response) => issue(res),
    );
    app.use(shield.errorHandler());
  } else {
    app.post('/auth/login', (req: Request, res: Response) => {
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
    });
  }
  app.get('/stats', (_req, res) => {
    res.json(stats);
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
      Promise.resolve(shield?.close())
        .then(() => store?.close())
        .finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error('[login-server] failed:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});
