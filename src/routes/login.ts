import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkThresholds, type Thresholds } from '../config/config.js';
import type { Assessment, AttemptFacts, AttemptOutcome, ShieldCore } from '../engine/engine.js';
import { badRequest, invalidCredentials, stepUpRequired, tooManyAttempts, unavailable } from '../http/responses.js';
import type { AccountLookup, AuthResult } from './callbacks.js';
import type { SecondFactor } from '../challenges/challenges.js';
import type { ShieldRequest } from '../http/request-state.js';
import { stringField } from '../http/body.js';

export interface LoginRouteOptions {
  /** The app's own password check. Must do the same work for unknown accounts. */
  authenticate: (email: string, password: string, req: Request) => AuthResult | Promise<AuthResult>;
  /**
   * Which account owns an address, without a password, and its second factor. Called on every
   * stepped-up attempt (right password or wrong, so it tells nobody anything) and must cost the
   * same for unknown addresses. With it, an owner who mistyped the password on a new device
   * learns so after passing the second factor, and accounts can use email codes; without it,
   * such a challenge can never be passed and every account is a TOTP account.
   */
  lookupAccount?: (email: string, req: Request) => AccountLookup | Promise<AccountLookup>;
  /** Body field names. Default `email` and `password`. */
  fields?: { email?: string; password?: string };
  thresholds?: Partial<Thresholds>;
  /** Decide and report, never enforce, on this route. */
  monitor?: boolean;
  /** When the store is down, fall back to in-process limits (true) or answer 503 (false). */
  failOpen?: boolean;
  /** Label used in decisions and metrics. Default: the request path. */
  name?: string;
}

export const MAX_PASSWORD_LENGTH = 1024;
export const MAX_EMAIL_LENGTH = 320;

type DecisionOutcome = 'success' | 'failure' | 'blocked' | 'challenged';

/**
 * Login guard. Refuses blocked sources before the app spends a password hash on them, asks
 * for a second factor from every device that has not passed one for the account (default
 * posture) or whenever the attempt is risky, with the same answer whether or not the password
 * was right (no validity oracle), and on success hands over to the app's handler with
 * `req.shield.userId` set.
 */
export function loginGuard(core: ShieldCore, options: LoginRouteOptions): RequestHandler {
  const emailField = options.fields?.email ?? 'email';
  const passwordField = options.fields?.password ?? 'password';
  const thresholds = checkThresholds('login thresholds', { ...core.config.thresholds, ...options.thresholds });
  const monitor = options.monitor ?? core.config.monitor;
  const failOpen = options.failOpen ?? core.config.failOpen;

  return async (req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    const email = stringField(req.body, emailField, MAX_EMAIL_LENGTH);
    if (!email.ok) return badRequest(res, email.detail);
    const password = stringField(req.body, passwordField, MAX_PASSWORD_LENGTH);
    if (!password.ok) return badRequest(res, password.detail);
    const route = options.name ?? req.path;

    let assessment: Assessment;
    try {
      assessment = await core.assess(req, email.value, thresholds, failOpen, { route: 'login', password: password.value });
    } catch {
      return unavailable(res);
    }
    const enforced = monitor ? 'allow' : assessment.action;
    const finish = async (outcome: AttemptOutcome, decisionOutcome: DecisionOutcome = outcome, facts?: AttemptFacts) => {
      await core.record(assessment, outcome, facts).catch(() => undefined);
      const decision = core.decision(route, 'login', assessment, monitor, {
        outcome: decisionOutcome,
        startedAt,
        retryAfterSeconds: enforced === 'block' ? core.retryAfterSeconds(assessment) : undefined,
      });
      (req as ShieldRequest).shield = { decision };
      core.publish(decision);
      return decision;
    };

    if (enforced === 'block') {
      const decision = await finish('blocked');
      return tooManyAttempts(res, decision.retryAfterSeconds ?? 60);
    }

    let auth: AuthResult;
    try {
      auth = await options.authenticate(email.value, password.value, req);
    } catch (error) {
      return next(error);
    }
    const authenticated = auth && 'userId' in auth && typeof auth.userId === 'string' && auth.userId.length > 0 ? auth : undefined;
    const userId = authenticated?.userId;
    const unknownAccount = Boolean(auth && 'unknownAccount' in auth && auth.unknownAccount === true);

    // The typo path's second half: this device passed the second factor minutes ago.
    const device = assessment.ids.device;
    const passed =
      enforced === 'challenge' && assessment.secondFactorPassed && device !== undefined
        ? await core.takeSecondFactorPass(assessment.ids.account, device).catch(() => false)
        : false;

    if (enforced === 'challenge' && !passed) {
      let lookup: AccountLookup;
      try {
        lookup = options.lookupAccount ? await options.lookupAccount(email.value, req) : undefined;
      } catch (error) {
        return next(error);
      }
      const owner = userId ?? (lookup && typeof lookup.userId === 'string' && lookup.userId.length > 0 ? lookup.userId : null);
      const factor: SecondFactor = lookup?.factor ?? authenticated?.factor ?? 'totp';
      // Same status, body shape and counters whether the password was right or wrong; after a
      // wrong one the right second factor only tells the owner so.
      let challenge: string;
      try {
        challenge = await core.challenges.issue({
          account: assessment.ids.account,
          device: device ?? null,
          userId: owner,
          purpose: 'login',
          passwordOk: userId !== undefined,
          factor,
        });
      } catch {
        return unavailable(res);
      }
      await finish('failure', 'challenged', { unknownAccount: unknownAccount || (options.lookupAccount !== undefined && owner === null) });
      core.emit('challenge', { route, purpose: 'login', outcome: 'issued', account: assessment.ids.account, at: core.config.now() });
      return stepUpRequired(res, challenge, core.challenges.ttlSec);
    }

    if (userId === undefined) {
      await finish('failure', 'failure', { unknownAccount });
      return invalidCredentials(res);
    }

    const decision = await finish('success');
    try {
      await core.markDeviceKnown(req, res, assessment.ids.account, assessment.ctx.rawDevice, assessment.deviceSeenAt);
    } catch {
      // Not remembering a device only means the next login is stepped up again.
    }
    if (assessment.deviceKnown && !assessment.passwordFlags) core.learnPassword(assessment.ids.account, email.value, password.value);
    (req as ShieldRequest).shield = { decision, userId };
    next();
  };
}
