import type { Request, RequestHandler } from 'express';
import type { SessionUser, Shield } from 'account-shield';
import { authOf } from './auth.js';
import type { SessionStore } from './sessions.js';
import { verifyUserTotp } from './totp.js';
import type { UserStore } from './users.js';

/**
 * One middleware slot in front of each sensitive handler: the shield's guards with
 * `PROTECTION=shield`, pass-through for the login-only baselines. A guard runs after
 * `requireSession`, so `authOf(res).session.userId` is the user.
 */
export interface RouteGuards {
  readonly password: RequestHandler;
  /** In front of `POST /account/email/confirm`, the step that changes the address. */
  readonly email: RequestHandler;
  readonly twoFactorReset: RequestHandler;
  readonly apiKeys: RequestHandler;
  readonly withdrawals: RequestHandler;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/**
 * The shield in every slot. Each guard learns who is signed in from `requireSession` (which
 * ran before it), answers step-up with the user's TOTP, and locks withdrawals after the change.
 */
export function shieldGuards(shield: Shield, users: UserStore, sessions: SessionStore): RouteGuards {
  const getUser = (req: Request): SessionUser | undefined => {
    if (!req.res) return undefined;
    const { session } = authOf(req.res);
    const user = users.get(session.userId);
    return user && { userId: user.id, email: user.email, sessionStartedAt: session.startedAt, factor: user.totpSecret ? 'totp' : 'email' };
  };
  const verifySecondFactor = (userId: string, code: string) => verifyUserTotp(users.get(userId)?.totpSecret, code);
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
  return {
    password: shield.credentialChange('password', { getUser, verifySecondFactor, verifyCurrentPassword, sessionId, onChanged: revokeOthers }),
    // The confirm step: the address now in force is the one the device moves to.
    email: shield.credentialChange('email', { getUser, verifySecondFactor, newEmail: (userId) => users.get(userId)?.email }),
    twoFactorReset: shield.credentialChange('2fa-reset', { getUser, verifySecondFactor, onChanged: revokeOthers }),
    apiKeys: shield.credentialChange('api-key', { getUser, verifySecondFactor, lockWithdrawals: withdrawCapable }),
    withdrawals: shield.withdrawals({ getUser }),
  };
}

export function unguarded(): RouteGuards {
  return { password: passThrough, email: passThrough, twoFactorReset: passThrough, apiKeys: passThrough, withdrawals: passThrough };
}
