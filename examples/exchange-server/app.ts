import { fileURLToPath } from 'node:url';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { createShield, jsonErrorHandler, type Shield, type ShieldRequest, shieldMetrics } from 'account-shield';
import { accountHandlers } from './account.js';
import { type AdminCredentials, adminAuth, adminCredentials } from './admin.js';
import { ApiKeys } from './api-keys.js';
import { requireSession } from './auth.js';
import { type Baseline, expressRateLimit, noProtection, rlfRecipe } from './baselines.js';
import { DEMO_USERS } from './demo-users.js';
import { EmailChanges } from './email-change.js';
import { type RouteGuards, shieldGuards, unguarded } from './guards.js';
import type { ExchangeOptions, Protection } from './options.js';
import { Outbox, outboxRoute } from './outbox.js';
import { SessionStore } from './sessions.js';
import { verifyUserTotp } from './totp.js';
import { loadSeedUsers, UserStore } from './users.js';
import { Wallet, withdrawalHandler } from './wallet.js';

export interface ExchangeApp {
  readonly app: Express;
  /** The shield, when PROTECTION is `shield`; baselines run without one. */
  readonly shield: Shield | undefined;
  readonly protection: Protection;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly wallet: Wallet;
  readonly apiKeys: ApiKeys;
  /** The codes the example "emailed" (step-up for accounts without TOTP, new-address checks). */
  readonly outbox: Outbox;
  /** Who may open the operator console at /admin; none for the baselines, or in production without ADMIN_TOKEN. */
  readonly admin: AdminCredentials | undefined;
  /** Stop the shield's and the baselines' timers; the caller closes its own HTTP server. */
  close(): Promise<void>;
}

/** JSON bodies only, small: nothing on these routes needs more, and parsing is attack surface. */
export const BODY_LIMIT = '16kb';

/**
 * The reference exchange auth server, built in-process: `main.ts` listens with it, tests drive
 * it with supertest and the demo over real HTTP. Throws the shield's `ShieldConfigError` for a
 * dangerous configuration (e.g. `trust proxy = true`) before anything listens.
 */
export async function createExchangeApp(options: ExchangeOptions = {}): Promise<ExchangeApp> {
  const protection = options.protection ?? 'shield';
  // Checked before anything starts; production without ADMIN_TOKEN gets no console.
  const admin = protection === 'shield' ? adminCredentials(options.adminToken) : undefined;
  const app = express();
  app.disable('x-powered-by');
  // Before the shield exists: it checks this setting when created.
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);

  const seed = typeof options.users === 'string' ? await loadSeedUsers(options.users) : (options.users ?? DEMO_USERS);
  const users = await UserStore.create(seed, { scryptCost: options.scryptCost });
  const sessions = new SessionStore({ ttlSec: options.sessionTtlSec });
  const wallet = new Wallet();
  const apiKeys = new ApiKeys();
  const outbox = new Outbox();

  let shield: Shield | undefined;
  let baseline: Baseline | undefined;
  let login: RequestHandler[];
  let verify: RequestHandler[];
  const issueToken: RequestHandler = (req: Request, res: Response) => {
    res.json({ token: sessions.issue((req as ShieldRequest).shield!.userId!) });
  };

  if (protection === 'shield') {
    shield = createShield({
      ...options.shieldOptions,
      secret: options.secret,
      leakedAddresses: options.leakedAddresses,
      app,
      // Accounts without an authenticator step up with a code the shield mints and we "email".
      sendCode: (userId, code, { purpose, expiresInSec }) => {
        const user = users.get(userId);
        if (user) outbox.send(user.email, `Your ${purpose === 'login' ? 'sign-in' : purpose} code (valid ${Math.round(expiresInSec / 60)} min)`, code);
      },
    });
    try {
      await shield.ready;
    } catch (error) {
      await shield.close();
      throw error;
    }
    login = [
      shield.login({
        authenticate: async (email, password) => {
          const user = await users.authenticate(email, password);
          if (user) return { userId: user.id };
          // Told to the shield only (wave detection); the client's answer is the same.
          return users.findByEmail(email) ? null : { unknownAccount: true };
        },
        // Lets an owner who mistyped learn so after the second factor, and names the factor.
        lookupAccount: (email) => {
          const user = users.findByEmail(email);
          return user && { userId: user.id, factor: user.totpSecret ? 'totp' : 'email' };
        },
      }),
      issueToken,
    ];
    verify = [
      shield.stepUp({
        // Called for every code, with the shield's decoy id for challenges nobody can pass.
        verifySecondFactor: (userId, code) => verifyUserTotp(users.get(userId)?.totpSecret, code),
      }),
      issueToken,
    ];
  } else {
    const make = { none: noProtection, 'express-rate-limit': expressRateLimit, 'rlf-recipe': rlfRecipe }[protection];
    baseline = make({ users, sessions });
    login = baseline.login;
    verify = baseline.verify;
  }

  app.use(express.json({ limit: BODY_LIMIT }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, protection });
  });
  // Prometheus text: counts by kind/action/outcome/signal only, never an email, IP or device id.
  if (shield) app.get('/metrics', shieldMetrics(shield).handler());
  // Development only: a real exchange emails these codes; here they wait in memory to be read.
  if (process.env.NODE_ENV !== 'production') app.get('/dev/outbox', outboxRoute(outbox));
  app.post('/auth/login', ...login);
  app.post('/auth/login/verify', ...verify);

  const guards: RouteGuards = shield ? shieldGuards(shield, users, sessions) : unguarded();
  const auth = requireSession(sessions);
  const account = accountHandlers({ users, sessions, apiKeys, emailChanges: new EmailChanges(users, outbox), shield });
  app.post('/account/password', auth, guards.password, account.changePassword);
  // Two steps: a code to the new address, then the change (the guarded step) with that code.
  app.post('/account/email', auth, account.startEmailChange);
  app.post('/account/email/confirm', auth, guards.email, account.confirmEmailChange);
  app.post('/account/2fa/reset', auth, guards.twoFactorReset, account.resetTwoFactor);
  app.post('/account/api-keys', auth, guards.apiKeys, account.createApiKey);
  app.post('/wallet/withdrawals', auth, guards.withdrawals, withdrawalHandler(wallet));
  app.get('/account/security', auth, account.security);

  // The operator console behind HTTP Basic, and the sign-in and account pages at /.
  if (shield && admin) app.use('/admin', adminAuth(admin), shield.console({ actor: () => admin.user }));
  app.use(express.static(fileURLToPath(new URL('./public', import.meta.url))));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(shield ? shield.errorHandler() : jsonErrorHandler());

  return {
    app,
    shield,
    protection,
    users,
    sessions,
    wallet,
    apiKeys,
    outbox,
    admin,
    close: async () => {
      baseline?.close();
      await shield?.close();
    },
  };
}
