import { fileURLToPath } from 'node:url';
import express, { type Express, type Request, type Response } from 'express';
import type { Shield } from 'account-shield';
import { accountHandlers } from './account.js';
import type { AdminCredentials } from './admin.js';
import { ApiKeys } from './api-keys.js';
import { requireSession } from './auth.js';
import { DEMO_USERS } from './demo-users.js';
import { EmailChanges } from './email-change.js';
import type { ExchangeOptions } from './options.js';
import { Outbox, outboxRoute } from './outbox.js';
import { SessionStore } from './sessions.js';
import { shieldGuards } from './shield.js';
import { loadSeedUsers, UserStore } from './users.js';
import { Wallet, withdrawalHandler } from './wallet.js';

export interface ExchangeApp {
  readonly app: Express;
  /** The shield behind the guards (always, with the default guards). */
  readonly shield: Shield | undefined;
  /** The guards' name, as `GET /healthz` reports it: `shield` by default. */
  readonly protection: string;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly wallet: Wallet;
  readonly apiKeys: ApiKeys;
  /** The codes the example "emailed" (step-up for accounts without TOTP, new-address checks). */
  readonly outbox: Outbox;
  /** Who may open the operator console at /admin; none in production without ADMIN_TOKEN. */
  readonly admin: AdminCredentials | undefined;
  /** Stop the guards' timers; the caller closes its own HTTP server. */
  close(): Promise<void>;
}

/** JSON bodies only, small: nothing on these routes needs more, and parsing is attack surface. */
export const BODY_LIMIT = '16kb';

/**
 * The reference exchange auth server, built in-process: `main.ts` listens with it, tests drive
 * it with supertest and the demo over real HTTP. Its guards are account-shield's (shield.ts)
 * unless `options.guards` builds others. Throws the shield's `ShieldConfigError` for a
 * dangerous configuration (e.g. `trust proxy = true`) before anything listens.
 */
export async function createExchangeApp(options: ExchangeOptions = {}): Promise<ExchangeApp> {
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
  const guards = await (options.guards ?? shieldGuards)({ app, users, sessions, outbox, options });

  app.use(express.json({ limit: BODY_LIMIT }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, protection: guards.name });
  });
  // Development only: a real exchange emails these codes; here they wait in memory to be read.
  if (process.env.NODE_ENV !== 'production') app.get('/dev/outbox', outboxRoute(outbox));
  app.post('/auth/login', ...guards.login);
  app.post('/auth/login/verify', ...guards.verify);

  const auth = requireSession(sessions);
  const account = accountHandlers({ users, apiKeys, emailChanges: new EmailChanges(users, outbox), security: guards.security });
  app.post('/account/password', auth, guards.password, account.changePassword);
  // Two steps: a code to the new address, then the change (the guarded step) with that code.
  app.post('/account/email', auth, account.startEmailChange);
  app.post('/account/email/confirm', auth, guards.email, account.confirmEmailChange);
  app.post('/account/2fa/reset', auth, guards.twoFactorReset, account.resetTwoFactor);
  app.post('/account/api-keys', auth, guards.apiKeys, account.createApiKey);
  app.post('/wallet/withdrawals', auth, guards.withdrawals, withdrawalHandler(wallet));
  app.get('/account/security', auth, account.security);

  // The guards' own routes (the shield's /metrics and its operator console at /admin), then
  // the sign-in and account pages at /.
  if (guards.routes) app.use(guards.routes);
  app.use(express.static(fileURLToPath(new URL('./public', import.meta.url))));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(guards.errorHandler);

  return {
    app,
    shield: guards.shield,
    protection: guards.name,
    users,
    sessions,
    wallet,
    apiKeys,
    outbox,
    admin: guards.admin,
    close: () => guards.close(),
  };
}
