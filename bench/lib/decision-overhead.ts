import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { createShield, type Decision, type Store } from '../../src/index.js';
import { percentile, Target } from './http.js';
import { BENCH_SECOND_FACTOR, benchEmail, benchPassword, clientIp, enrolAccounts, loginRequest } from './load.js';

/**
 * The shield's own time per login decision, in process: one request at a time (no queueing
 * behind other requests), each decision's `elapsedMs` as the shield reports it — from the
 * middleware's entry to its decision, including the store round trips and the app's
 * `authenticate` callback, which here is a Map lookup, so what remains is the shield.
 */
export interface PathTiming {
  readonly decisions: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly meanMs: number;
  readonly actions: Record<string, number>;
}

export interface OverheadResult {
  readonly store: string;
  /** Returning users: known device, usual address, password quality already remembered. */
  readonly returning: PathTiming;
  /** First login of an account: a new device, so a step-up answer (the default posture). */
  readonly firstLogin: PathTiming;
}

const WARM_UP = 200;

function timing(elapsed: number[], actions: Record<string, number>): PathTiming {
  const mean = elapsed.reduce((a, b) => a + b, 0) / Math.max(1, elapsed.length);
  return { decisions: elapsed.length, p50ms: percentile(elapsed, 50), p99ms: percentile(elapsed, 99), meanMs: mean, actions };
}

export async function decisionOverhead(storeName: string, accounts: number, count: number, store?: Store): Promise<OverheadResult> {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  const shield = createShield({ secret: 'bench-overhead-secret-0123456789abcdef', app, ...(store ? { store } : {}) });
  let elapsed: number[] = [];
  let actions: Record<string, number> = {};
  shield.on('decision', (d: Decision) => {
    // Login decisions only: enrolment also passes step-ups, which are not what is timed.
    if (d.kind !== 'login') return;
    if (d.elapsedMs !== undefined) elapsed.push(d.elapsedMs);
    actions[d.action] = (actions[d.action] ?? 0) + 1;
  });
  const users = new Map<string, string>();
  // Accounts [0, accounts) are measured; the next WARM_UP ones only warm the JIT and the store.
  for (let i = 0; i < accounts + WARM_UP; i++) users.set(benchEmail(i), benchPassword(i));
  app.post(
    '/auth/login',
    shield.login({ authenticate: (email, password) => (users.get(email) === password ? { userId: email } : null) }),
    (_req: Request, res: Response) => {
      res.json({ token: 'x' });
    },
  );
  // The default posture steps every new device up: enrolment answers it, so the devices the
  // returning users come back on are known.
  app.post(
    '/auth/login/verify',
    shield.stepUp({ verifySecondFactor: (_userId, code) => code === BENCH_SECOND_FACTOR }),
    (_req: Request, res: Response) => {
      res.json({ token: 'x' });
    },
  );
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = new Target((server.address() as AddressInfo).port, 1);
  try {
    const base = 70_000_000;
    // Warm-up on accounts outside the measured ones, right passwords only (failures could start a "wave").
    for (let i = accounts; i < accounts + WARM_UP; i++) {
      await target.post('/auth/login', { email: benchEmail(i), password: benchPassword(i) }, { ip: clientIp(base - 10_000 + i) });
    }
    // First logins, one per account, sequentially: new device, step-up, then the second factor.
    elapsed = [];
    actions = {};
    const cookies = await enrolAccounts(target, accounts, 1);
    const firstLogin = timing(elapsed, actions);
    // Returning users on their known devices from their usual address, 1 in 10 with a typo.
    elapsed = [];
    actions = {};
    for (let i = 0; i < count; i++) {
      const r = loginRequest(base + accounts + i, { users: accounts, cookies, fromHome: true });
      await target.post('/auth/login', JSON.parse(r.body), { ip: r.ip, cookie: r.cookie });
    }
    return { store: storeName, returning: timing(elapsed, actions), firstLogin };
  } finally {
    target.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await shield.close();
  }
}
