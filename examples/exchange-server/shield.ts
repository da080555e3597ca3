import { Router, type Request, type RequestHandler, type Response } from 'express';
import { createShield, type SessionUser, type ShieldRequest, shieldMetrics } from 'account-shield';
import { adminAuth, adminCredentials } from './admin.js';
import { authOf } from './auth.js';
import type { GuardsFactory } from './guards.js';
import { verifyUserTotp } from './totp.js';

/**
 * account-shield in front of every route, mounted as the package README says: `login` and
 * `stepUp` on sign-in, `credentialChange` on each credential change, `withdrawals` on payouts,
 * its metrics, its console behind the exchange's own admin login, and its error handler last.
 * Throws the shield's `ShieldConfigError` for a dangerous configuration (e.g. `trust proxy = true`).
 */
export const shieldGuards: GuardsFactory = async ({ app, users, sessions, outbox, options }) => {
  // Checked before the shield starts; production without ADMIN_TOKEN gets no console.
  const admin = adminCredentials(options.adminToken);
  const shield = createShield({
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

  const issueToken: RequestHandler = (req: Request, res: Response) => {
    res.json({ token: sessions.issue((req as ShieldRequest).shield!.userId!) });
  };
  // Called for every code, with the shield's decoy id for challenges nobody can pass.
  const verifySecondFactor = (userId: string, code: string) => verifyUserTotp(users.get(userId)?.totpSecret, code);

  // Each credential-change guard learns who is signed in from `requireSession`, which ran before it.
  const getUser = (req: Request): SessionUser | undefined => {
    if (!req.res) return undefined;
    const { session } = authOf(req.res);
    const user = users.get(session.userId);
    return user && { userId: user.id, email: user.email, sessionStartedAt: session.startedAt, factor: user.totpSecret ? 'totp' : 'email' };
  };
  // Whoever else holds a token for this account is logged out by a password or 2FA change.
  const revokeOthers = (userId: string, req: Request) => {
    if (req.res) sessions.revokeOthers(userId, authOf(req.res).token);
  };
  // The current password is checked by the guard, so wrong ones count against the session and
  // its source like failed logins: a stolen session cannot guess it (issue 10, row 10).
  const verifyCurrentPassword = async (userId: string, password: string) => {
    const user = users.get(userId);
    return user !== undefined && (await users.checkPassword(user, password));
  };
  const sessionId = (req: Request) => (req.res ? authOf(req.res).session.tokenHash : undefined);
  const withdrawCapable = (req: Request) => Array.isArray(req.body?.permissions) && req.body.permissions.includes('withdraw');

  const routes = Router();
  // Prometheus text: counts by kind/action/outcome/signal only, never an email, IP or device id.
  routes.get('/metrics', shieldMetrics(shield).handler());
  if (admin) routes.use('/admin', adminAuth(admin), shield.console({ actor: () => admin.user }));

  return {
    name: 'shield',
    shield,
    admin,
    login: [
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
    ],
    verify: [shield.stepUp({ verifySecondFactor }), issueToken],
    // The guard checks the current password and vets the new one before the handler runs.
    password: shield.credentialChange('password', { getUser, verifySecondFactor, verifyCurrentPassword, sessionId, onChanged: revokeOthers }),
    // The confirm step: the address now in force is the one the device moves to.
    email: shield.credentialChange('email', { getUser, verifySecondFactor, newEmail: (userId) => users.get(userId)?.email }),
    twoFactorReset: shield.credentialChange('2fa-reset', { getUser, verifySecondFactor, onChanged: revokeOthers }),
    apiKeys: shield.credentialChange('api-key', { getUser, verifySecondFactor, lockWithdrawals: withdrawCapable }),
    withdrawals: shield.withdrawals({ getUser }),
    security: async (user) => {
      const [lock, devices] = await Promise.all([shield.locks.status(user.id), shield.knownDevices(user.email)]);
      return {
        withdrawalsLockedUntil: lock.until?.toISOString() ?? null,
        reasons: lock.reasons.map((r) => ({
          kind: r.kind,
          at: new Date(r.at).toISOString(),
          until: new Date(r.until).toISOString(),
          detail: r.detail,
        })),
        knownDevices: devices.map((d) => ({ id: d.id, lastSeen: d.lastSeen.toISOString() })),
      };
    },
    routes,
    errorHandler: shield.errorHandler(),
    close: () => shield.close(),
  };
};
