import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { addressInputs, passwordStrength } from 'account-shield';
import { authOf } from '../../examples/exchange-server/auth.js';
import type { ExchangeGuards } from '../../examples/exchange-server/guards.js';
import type { SessionStore } from '../../examples/exchange-server/sessions.js';
import { MAX_PASSWORD_LENGTH, type UserStore } from '../../examples/exchange-server/users.js';
import { badRequest, stringField } from '../../examples/exchange-server/validate.js';

/** zxcvbn score (0–4) a new password must reach; the shield's own default for credential changes. */
export const MIN_PASSWORD_SCORE = 3;
/** zxcvbn's cost grows superlinearly with length, so it only ever sees a bounded prefix. */
const MAX_SCORED_LENGTH = 20;

type AccountGuards = Pick<ExchangeGuards, 'password' | 'email' | 'twoFactorReset' | 'apiKeys' | 'withdrawals' | 'security'>;

const passThrough: RequestHandler = (_req, _res, next) => next();

/**
 * Runs `then` when the handler behind answers 2xx, before the answer leaves: what the shield's
 * `onChanged` does, so a client never sees the change before the other sessions are gone.
 */
function onSuccess(res: Response, then: () => void): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]) => {
    if (res.statusCode >= 200 && res.statusCode < 300) then();
    return end(...args);
  }) as Response['end'];
}

/**
 * The account routes of a login-only baseline: no step-up, no withdrawal locks, no device
 * memory — only the checks any exchange does itself without the shield: the current password
 * (403 forbidden), a strong new one (400 weak_password), and the other sessions ended after a
 * password or 2FA change.
 */
export function unprotectedAccount(users: UserStore, sessions: SessionStore): AccountGuards {
  const revokeOthersOnSuccess: RequestHandler = (_req: Request, res: Response, next: NextFunction) => {
    const { session, token } = authOf(res);
    onSuccess(res, () => sessions.revokeOthers(session.userId, token));
    next();
  };
  const password: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    const current = stringField(req.body, 'currentPassword', MAX_PASSWORD_LENGTH);
    if (!current.ok) return badRequest(res, current.detail);
    const fresh = stringField(req.body, 'newPassword', MAX_PASSWORD_LENGTH);
    if (!fresh.ok) return badRequest(res, fresh.detail);
    const user = users.get(authOf(res).session.userId);
    // A session whose user vanished: the handler answers that.
    if (!user) return next();
    if (!(await users.checkPassword(user, current.value))) {
      res.status(403).json({ error: 'forbidden' });
      return;
    }
    const strength = passwordStrength(fresh.value, addressInputs(user.email), { maxLength: MAX_SCORED_LENGTH });
    if (strength.score < MIN_PASSWORD_SCORE) {
      res.status(400).json({ error: 'weak_password', feedback: { warning: strength.warning, suggestions: strength.suggestions } });
      return;
    }
    revokeOthersOnSuccess(req, res, next);
  };
  return {
    password,
    email: passThrough,
    twoFactorReset: revokeOthersOnSuccess,
    apiKeys: passThrough,
    withdrawals: passThrough,
    security: async () => ({ withdrawalsLockedUntil: null, reasons: [], knownDevices: [] }),
  };
}
