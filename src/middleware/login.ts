import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkThresholds, type Thresholds } from '../config.js';
import type { AttemptOutcome, ShieldCore } from '../core.js';
import { badRequest, invalidCredentials, stepUpRequired, tooManyAttempts, unavailable } from '../responses.js';
import type { AuthResult, ShieldRequest } from '../types.js';
import { stringField } from './body.js';

export interface LoginRouteOptions {
  /** The app's own password check. Must do the same work for unknown accounts. */
  authenticate: (email: string, password: string, req: Request) => AuthResult | Promise<AuthResult>;
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

/**
 * Login guard. Refuses blocked sources before the app spends a password hash on them, asks
 * risky attempts for a second factor whether or not the password was right (no validity
 * oracle), and on success hands over to the app's handler with `req.shield.userId` set.
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

    let assessment: Awaited<ReturnType<ShieldCore['assess']>>;
    try {
      assessment = await core.assess(req, email.value, thresholds, failOpen);
    } catch {
      return unavailable(res);
    }
    const enforced = monitor ? 'allow' : assessment.action;
    const finish = async (outcome: AttemptOutcome, decisionOutcome = outcome as 'success' | 'failure' | 'blocked' | 'challenged') => {
      await core.record(assessment, outcome).catch(() => undefined);
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
    const userId = auth && typeof auth.userId === 'string' && auth.userId.length > 0 ? auth.userId : undefined;
    if (userId !== undefined && !assessment.passwordFlags) core.learnPassword(assessment.ids.account, email.value, password.value);

    if (enforced === 'challenge') {
      // Same status, body shape and counters whether the password was right or wrong; after a
      // wrong one the challenge is bound to no user and can never be passed.
      let challenge: string;
      try {
        challenge = await core.challenges.issue({
          account: assessment.ids.account,
          device: assessment.ids.device ?? null,
          userId: userId ?? null,
          purpose: 'login',
        });
      } catch {
        return unavailable(res);
      }
      await finish('failure', 'challenged');
      core.emit('challenge', { route, purpose: 'login', outcome: 'issued', account: assessment.ids.account, at: core.config.now() });
      return stepUpRequired(res, challenge, core.challenges.ttlSec);
    }

    if (userId === undefined) {
      await finish('failure');
      return invalidCredentials(res);
    }

    const decision = await finish('success');
    try {
      await core.markDeviceKnown(req, res, assessment.ids.account, assessment.ctx.rawDevice, assessment.deviceSeenAt);
    } catch {
      // Not remembering a device only means the next login is scored as a new device.
    }
    (req as ShieldRequest).shield = { decision, userId };
    next();
  };
}
