import type { Request } from 'express';
import { ShieldConfigError } from '../errors/shield-error.js';
import type { GetUser, SessionUser } from '../http/session-user.js';
import type { AccountLookup, AuthResult } from '../routes/callbacks.js';
import type { ChangeSettings } from '../routes/credential-change/guard.js';
import type { LoginSettings } from '../routes/login.js';
import { checkThresholds, type ResolvedConfig, type Thresholds } from './config.js';
import { boolean, fn, type Input, number, object, type Output, resolveShape, type Shape, string, union } from './schema.js';

/**
 * What each route guard accepts, declared once (type and check): a misspelt route option
 * (`tresholds`) is a start-up error with a fix when the route is mounted, not a setting
 * silently ignored. Unset options take the shield's (`createShield`) value.
 */

/** A route's own thresholds, over the shield's. */
const routeThresholds = () => object({ challenge: number(), block: number() });
type SecondFactorCheck = (userId: string, code: string, req: Request) => boolean | Promise<boolean>;

export const loginShape = {
  /** The app's own password check. Must do the same work for unknown accounts. */
  authenticate: fn<(email: string, password: string, req: Request) => AuthResult | Promise<AuthResult>>().required(),
  /**
   * Which account owns an address, without a password, and its second factor. Called on every
   * stepped-up attempt (right password or wrong, so it tells nobody anything) and must cost the
   * same for unknown addresses. With it, an owner who mistyped the password on a new device
   * learns so after passing the second factor, and accounts can use email codes; without it,
   * such a challenge can never be passed and every account is a TOTP account.
   */
  lookupAccount: fn<(email: string, req: Request) => AccountLookup | Promise<AccountLookup>>(),
  /** Body field names. Default `email` and `password`. */
  fields: object({ email: string().default('email'), password: string().default('password') }),
  thresholds: routeThresholds(),
  /** Decide and report, never enforce, on this route. */
  monitor: boolean(),
  /** When the store is down, fall back to in-process limits (true) or answer 503 (false). */
  failOpen: boolean(),
  /** Label used in decisions and metrics. Default: the request path. */
  name: string(),
};

export const stepUpShape = {
  /**
   * The app's own second-factor check (e.g. TOTP) for one of its users. It is also called with
   * `DECOY_USER_ID` (no such user) for challenges nobody can pass: do the same work as for a
   * real user (e.g. check against a dummy secret) and answer false, so both take as long.
   */
  verifySecondFactor: fn<SecondFactorCheck>().required(),
  /** Body field names. Default `challenge` and `code`. */
  fields: object({ challenge: string().default('challenge'), code: string().default('code') }),
  name: string(),
};

export const credentialChangeShape = {
  /** The signed-in user of this request (the app authenticates the session itself). */
  getUser: fn<GetUser<SessionUser>>().required(),
  /** The app's second-factor check, for step-up on risky changes. */
  verifySecondFactor: fn<SecondFactorCheck>().required(),
  /**
   * The app's current-password check. With it, the guard requires `currentPasswordField`,
   * checks it once any step-up has passed, answers a wrong one 403 `{error:"forbidden"}` and
   * counts it against the source and the account like a failed login, so a stolen session
   * cannot guess the password: velocity steps it up, then blocks its source.
   */
  verifyCurrentPassword: fn<(userId: string, password: string, req: Request) => boolean | Promise<boolean>>(),
  /**
   * Names the signed-in session (keyed before it is stored), so that after 5 wrong current
   * passwords in an hour that session, not the whole account, must step up. Without it the
   * count is per account.
   */
  sessionId: fn<(req: Request) => string | undefined>(),
  /**
   * Body field holding a new password to vet (zxcvbn, breach corpus, not equal to the
   * current one). Default `newPassword` for the `password` and `password-reset` kinds.
   */
  newPasswordField: string(),
  /** Body field holding the current password, used as a zxcvbn input and for equality. */
  currentPasswordField: string(),
  /**
   * Body field holding a new address (default `email` for the `email` kind). After the change
   * the current device stays known under the new address, so the owner is not treated as a
   * stranger on the device they just used.
   */
  newEmailField: string(),
  /**
   * The address in force after a successful change, when the body does not carry it (e.g. a
   * confirm-by-code step); called after the app answered 2xx. Takes precedence over the field.
   */
  newEmail: fn<(userId: string, req: Request) => string | undefined | Promise<string | undefined>>(),
  /** Called after a successful change, before the response, e.g. to revoke other sessions. */
  onChanged: fn<(userId: string, req: Request) => void | Promise<void>>(),
  /** Whether this change locks withdrawals (e.g. only API keys with withdraw permission). */
  lockWithdrawals: union(boolean(), fn<(req: Request) => boolean>()),
  thresholds: routeThresholds(),
  monitor: boolean(),
  name: string(),
};

export const withdrawalsShape = {
  getUser: fn<GetUser<{ userId: string }>>().required(),
  name: string(),
};

export type LoginRouteOptions = Input<typeof loginShape>;
export type StepUpRouteOptions = Input<typeof stepUpShape>;
export type CredentialChangeRouteOptions = Input<typeof credentialChangeShape>;
export type WithdrawalRouteOptions = Input<typeof withdrawalsShape>;

/** Route options as the guards use them: checked, the route's own defaults filled in. */
export type ResolvedLogin = Output<typeof loginShape>;
export type ResolvedStepUp = Output<typeof stepUpShape>;
export type ResolvedCredentialChange = Output<typeof credentialChangeShape>;

/** Check a route's options at mount (unknown, mistyped or missing callbacks); throws `ShieldConfigError`. */
export function resolveRouteOptions<S extends Shape>(route: string, shape: S, options: unknown): Output<S> {
  if (options === undefined || options === null || typeof options !== 'object') {
    const required = Object.entries(shape).filter(([, field]) => field.isRequired).map(([name]) => name);
    throw new ShieldConfigError(
      'MISSING_CALLBACK',
      `shield.${route}() needs an options object.`,
      `Pass { ${required.map((name) => `${name}: async (...) => ...`).join(', ')} }.`,
    );
  }
  return resolveShape(shape, options, `shield.${route}() options`);
}

/** A route's thresholds over the shield's (either may be set alone), checked together. */
function mergeThresholds(name: string, base: Thresholds, own: { challenge: number | undefined; block: number | undefined }): Thresholds {
  return checkThresholds(name, { challenge: own.challenge ?? base.challenge, block: own.block ?? base.block });
}

/** A login route's settings: its own options over the shield's. */
export function loginSettings(config: ResolvedConfig, options: ResolvedLogin): LoginSettings {
  return {
    thresholds: mergeThresholds('login thresholds', config.thresholds, options.thresholds),
    monitor: options.monitor ?? config.monitor,
    failOpen: options.failOpen ?? config.failOpen,
  };
}

/** A credential-change route's settings: its own options over the shield's. */
export function changeSettings(config: ResolvedConfig, kind: string, options: ResolvedCredentialChange): ChangeSettings {
  const { maxSessionAgeSec, staleSessionPoints } = config.credentialChange;
  return {
    thresholds: mergeThresholds(`${kind} thresholds`, config.credentialChange.thresholds, options.thresholds),
    monitor: options.monitor ?? config.monitor,
    session: { maxSessionAgeSec, staleSessionPoints },
    password: config.password,
    logger: config.logger,
  };
}
