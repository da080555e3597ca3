import type { Request, RequestHandler, Response } from 'express';
import { generateSecret, generateURI } from 'otplib';
import { API_KEY_PERMISSIONS, type ApiKeys } from './api-keys.js';
import { authOf } from './auth.js';
import type { EmailChanges } from './email-change.js';
import type { ExchangeGuards } from './guards.js';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, type User, type UserStore } from './users.js';
import { badRequest, emailField, enumListField, stringField } from './validate.js';

export interface AccountDeps {
  readonly users: UserStore;
  readonly apiKeys: ApiKeys;
  readonly emailChanges: EmailChanges;
  /** The guards' view of the account's locks and devices. */
  readonly security: ExchangeGuards['security'];
}

/**
 * Handlers of the authenticated account routes. Each runs after `requireSession` and after the
 * route's guard (see `guards.ts`), so it only does the change itself.
 */
export function accountHandlers({ users, apiKeys, emailChanges, security: securityOf }: AccountDeps) {
  const currentUser = (res: Response): User | undefined => {
    const user = users.get(authOf(res).session.userId);
    // A session whose user vanished is as good as no session.
    if (!user) res.status(401).json({ error: 'unauthorized' });
    return user;
  };

  /** POST /account/password {currentPassword, newPassword} */
  const changePassword: RequestHandler = async (req: Request, res: Response) => {
    const current = stringField(req.body, 'currentPassword', MAX_PASSWORD_LENGTH);
    if (!current.ok) return badRequest(res, current.detail);
    const next = stringField(req.body, 'newPassword', MAX_PASSWORD_LENGTH);
    if (!next.ok) return badRequest(res, next.detail);
    const user = currentUser(res);
    if (!user) return;
    // The password guard has checked the current password (counting wrong ones, so a stolen
    // session cannot guess it) and vetted the new one; it ends the other sessions after this.
    await users.setPassword(user, next.value);
    res.json({ ok: true });
  };

  /**
   * POST /account/email {email} → 200 {status:"verification_sent"} (the contract's 200), whether or not the address
   * has an account (a code goes to a free one, a notice to one in use): no enumeration.
   */
  const startEmailChange: RequestHandler = (req: Request, res: Response) => {
    const email = emailField(req.body, 'email', MAX_EMAIL_LENGTH);
    if (!email.ok) return badRequest(res, email.detail);
    const user = currentUser(res);
    if (!user) return;
    if (!emailChanges.start(user, email.value)) {
      res.setHeader('Retry-After', '3600');
      res.status(429).json({ error: 'too_many_attempts' });
      return;
    }
    res.status(200).json({ status: 'verification_sent' });
  };

  /**
   * POST /account/email/confirm {verificationCode} → 200 {ok, email} · 400 invalid_code. The
   * change itself: its email guard runs first (step-up, withdrawal lock).
   */
  const confirmEmailChange: RequestHandler = (req: Request, res: Response) => {
    const code = stringField(req.body, 'verificationCode', 16);
    if (!code.ok) return badRequest(res, code.detail);
    const user = currentUser(res);
    if (!user) return;
    const email = emailChanges.confirm(user, code.value);
    if (email === undefined) {
      res.status(400).json({ error: 'invalid_code' });
      return;
    }
    res.json({ ok: true, email });
  };

  /** POST /account/2fa/reset: a fresh TOTP secret, shown once for the authenticator app. */
  const resetTwoFactor: RequestHandler = (_req: Request, res: Response) => {
    const user = currentUser(res);
    if (!user) return;
    user.totpSecret = generateSecret();
    // The guard ends the other sessions after this.
    res.json({
      totpSecret: user.totpSecret,
      otpauthUri: generateURI({ issuer: 'Example Exchange', label: user.email, secret: user.totpSecret }),
    });
  };

  /** POST /account/api-keys {permissions} → 201 {id, secret}: the secret is shown this once. */
  const createApiKey: RequestHandler = (req: Request, res: Response) => {
    const permissions = enumListField(req.body, 'permissions', API_KEY_PERMISSIONS);
    if (!permissions.ok) return badRequest(res, permissions.detail);
    if (permissions.value.length === 0) return badRequest(res, 'permissions must not be empty');
    const user = currentUser(res);
    if (!user) return;
    const { key, secret } = apiKeys.create(user.id, permissions.value);
    res.status(201).json({ id: key.id, secret });
  };

  /** GET /account/security: the withdrawal lock with its reasons, and the known devices. */
  const security: RequestHandler = async (_req: Request, res: Response) => {
    const user = currentUser(res);
    if (!user) return;
    try {
      res.json(await securityOf(user));
    } catch {
      res.status(503).json({ error: 'unavailable' });
    }
  };

  return { changePassword, startEmailChange, confirmEmailChange, resetTwoFactor, createApiKey, security };
}
