import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkThresholds, type Thresholds } from '../config.js';
import type { ShieldCore } from '../core.js';
import { errorMessage } from '../core.js';
import { storeKeys } from '../keys.js';
import type { Locks } from '../locks.js';
import { decide } from '../policy.js';
import { badRequest, invalidCode, stepUpRequired, tooManyAttempts, unavailable } from '../responses.js';
import { addressInputs, passwordStrength } from '../signals/password-strength.js';
import type { Reason, ShieldRequest } from '../types.js';
import { optionalStringField, stringField } from './body.js';
import { presentChallenge } from './present-challenge.js';
import { MAX_PASSWORD_LENGTH } from './login.js';
import { MAX_CHALLENGE_LENGTH, MAX_CODE_LENGTH } from './step-up.js';
import { type GetUser, resolveUser, type SessionUser } from './session-user.js';

export interface CredentialChangeRouteOptions {
  /** The signed-in user of this request (the app authenticates the session itself). */
  getUser: GetUser<SessionUser>;
  /** The app's second-factor check, for step-up on risky changes. */
  verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
  /**
   * Body field holding a new password to vet (zxcvbn, breach corpus, not equal to the
   * current one). Default `newPassword` for the `password` and `password-reset` kinds.
   */
  newPasswordField?: string;
  /** Body field holding the current password, used as a zxcvbn input and for equality. */
  currentPasswordField?: string;
  /**
   * Body field holding a new address (default `email` for the `email` kind). After the change
   * the current device stays known under the new address, so the owner is not treated as a
   * stranger on the device they just used.
   */
  newEmailField?: string;
  /** Called after a successful change, before the response, e.g. to revoke other sessions. */
  onChanged?: (userId: string, req: Request) => void | Promise<void>;
  /** Whether this change locks withdrawals (e.g. only API keys with withdraw permission). */
  lockWithdrawals?: boolean | ((req: Request) => boolean);
  thresholds?: Partial<Thresholds>;
  monitor?: boolean;
  name?: string;
}

const PASSWORD_KINDS = new Set(['password', 'password-reset']);

/**
 * Guards a credential change: scores it with the login engine (velocity, device, leaked
 * address, recent changes, session age), vets a new password, demands step-up when risky, and
 * once the app's handler answers 2xx, locks withdrawals for the kind's duration.
 */
export function credentialChangeGuard(core: ShieldCore, locks: Locks, kind: string, options: CredentialChangeRouteOptions): RequestHandler {
  locks.assertKind(kind);
  const newPasswordField = options.newPasswordField ?? (PASSWORD_KINDS.has(kind) ? 'newPassword' : undefined);
  const currentPasswordField = options.currentPasswordField ?? 'currentPassword';
  const newEmailField = options.newEmailField ?? (kind === 'email' ? 'email' : undefined);
  const thresholds = checkThresholds(`${kind} thresholds`, { ...core.config.credentialChange.thresholds, ...options.thresholds });
  const monitor = options.monitor ?? core.config.monitor;

  return async (req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    let user: SessionUser | undefined;
    try {
      user = await resolveUser(options.getUser, req);
    } catch (error) {
      return next(error);
    }
    if (!user || typeof user.email !== 'string') {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    const body: unknown = req.body ?? {};
    const challenge = optionalStringField(body, 'challenge', MAX_CHALLENGE_LENGTH);
    if (challenge && !challenge.ok) return badRequest(res, challenge.detail);
    const code = optionalStringField(body, 'code', MAX_CODE_LENGTH);
    if (code && !code.ok) return badRequest(res, code.detail);
    if (Boolean(challenge) !== Boolean(code)) return badRequest(res, 'challenge and code go together');
    let newPassword: string | undefined;
    let currentPassword: string | undefined;
    if (newPasswordField) {
      const field = stringField(body, newPasswordField, MAX_PASSWORD_LENGTH);
      if (!field.ok) return badRequest(res, field.detail);
      newPassword = field.value;
      const current = optionalStringField(body, currentPasswordField, MAX_PASSWORD_LENGTH);
      if (current && !current.ok) return badRequest(res, current.detail);
      currentPassword = current?.value;
    }
    const route = options.name ?? req.path;

    let assessment: Awaited<ReturnType<ShieldCore['assess']>>;
    try {
      // Fail closed: a change we could not lock withdrawals after must not happen.
      assessment = await core.assess(req, user.email, thresholds, false);
    } catch {
      return unavailable(res);
    }
    const reasons: Reason[] = [...assessment.reasons];
    const sessionStart = user.sessionStartedAt instanceof Date ? user.sessionStartedAt.getTime() : user.sessionStartedAt;
    const { maxSessionAgeSec, staleSessionPoints } = core.config.credentialChange;
    if (typeof sessionStart === 'number' && core.config.now() - sessionStart > maxSessionAgeSec * 1000) {
      reasons.push({ signal: 'session.stale', points: staleSessionPoints, detail: `session older than ${maxSessionAgeSec} s` });
    }
    const verdict = decide(reasons, thresholds);
    const scored = { ...assessment, reasons, ...verdict };
    const enforced = monitor ? 'allow' : verdict.action;
    const publish = (outcome: 'success' | 'failure' | 'blocked' | 'challenged', retryAfterSeconds?: number) => {
      const decision = core.decision(route, 'credential-change', scored, monitor, { change: kind, outcome, retryAfterSeconds, startedAt });
      core.publish(decision);
      return decision;
    };

    if (enforced === 'block') {
      const retry = core.retryAfterSeconds(assessment);
      publish('blocked', retry);
      return tooManyAttempts(res, retry);
    }

    if (newPassword !== undefined) {
      // Only authenticated, unblocked sessions reach zxcvbn, and on a bounded input.
      const refusal = await vetNewPassword(core, newPassword, currentPassword, user.email);
      if (refusal) {
        publish('failure');
        res.status(400).json({ error: 'weak_password', feedback: refusal });
        return;
      }
    }

    let steppedUp = false;
    if (challenge?.ok && code?.ok) {
      const presented = await presentChallenge(core, req, {
        route,
        token: challenge.value,
        code: code.value,
        purpose: kind,
        device: assessment.ids.device ?? null,
        account: assessment.ids.account,
        userId: user.userId,
        verifySecondFactor: options.verifySecondFactor,
      });
      if (presented.kind === 'store-error') return unavailable(res);
      if (presented.kind === 'app-error') return next(presented.error);
      const { outcome } = presented;
      if (!outcome.ok) {
        // Failed codes count against the source like failed logins, so per-IP limits apply.
        await core.record(assessment, 'failure').catch(() => undefined);
        publish('failure');
        return outcome.failure === 'too-many-attempts' ? tooManyAttempts(res, core.challenges.ttlSec) : invalidCode(res);
      }
      steppedUp = true;
    } else if (enforced === 'challenge') {
      let token: string;
      try {
        token = await core.challenges.issue({
          account: assessment.ids.account,
          device: assessment.ids.device ?? null,
          userId: user.userId,
          purpose: kind,
        });
      } catch {
        return unavailable(res);
      }
      publish('challenged');
      core.emit('challenge', { route, purpose: kind, outcome: 'issued', account: assessment.ids.account, at: core.config.now() });
      return stepUpRequired(res, token, core.challenges.ttlSec);
    }

    const risky = verdict.action !== 'allow';
    const shouldLock = typeof options.lockWithdrawals === 'function' ? options.lockWithdrawals(req) : options.lockWithdrawals !== false;
    if (shouldLock) {
      // Fail closed: hold withdrawals before the change can happen. If even this hold cannot
      // be written, the change does not happen. A change the app then refuses leaves only
      // this short hold behind.
      try {
        await locks.hold(user.userId, kind);
      } catch {
        publish('failure');
        return unavailable(res);
      }
    }
    const decision = publish('success');
    const signedIn = user;
    const newEmail = newEmailField ? optionalStringField(body, newEmailField, 320) : undefined;
    commitOnSuccess(res, async () => {
      const now = core.config.now();
      const log = (step: string) => (error: unknown) =>
        core.config.logger.error(`[account-shield] after a ${kind} change, ${step} failed: ${errorMessage(error)}`);
      // Each step stands alone: one failing must not skip the others (above all the event the
      // app uses to tell the owner).
      const lockedUntil = shouldLock
        ? await locks
            .applyChange(signedIn.userId, kind, risky)
            .then(async (record) => {
              await locks.release(signedIn.userId).catch(log('lifting the pending hold'));
              return record.until;
            })
            .catch((error: unknown) => {
              log('locking withdrawals (the short hold stays; retrying)')(error);
              locks.retryApplyChange(signedIn.userId, kind, risky);
              return null;
            })
        : null;
      if (newPassword !== undefined) {
        // What was learnt about the old password no longer holds; the next login relearns it.
        await core.store.delete(storeKeys.passwordFlags(assessment.ids.account)).catch(log('forgetting password flags'));
      }
      const markMs = locks.durationHours(kind, risky) * 3_600_000;
      await core.store.set(storeKeys.recentChange(assessment.ids.account), String(now), markMs).catch(log('marking the change'));
      if (newEmail?.ok && assessment.ids.device) {
        const account = core.accountOf(newEmail.value);
        await core.rememberDevice(account, assessment.ids.device).catch(log('moving the device to the new address'));
        await core.store.set(storeKeys.recentChange(account), String(now), markMs).catch(log('marking the change'));
      }
      if (options.onChanged) await Promise.resolve(options.onChanged(signedIn.userId, req)).catch(log('onChanged'));
      core.emit('credential.changed', {
        userId: signedIn.userId,
        kind,
        risky,
        steppedUp,
        withdrawalsLockedUntil: lockedUntil,
        at: now,
      });
    }, async () => {
      // The app refused the change: nothing to hold withdrawals for.
      if (shouldLock) await locks.release(signedIn.userId).catch(() => undefined);
    });
    (req as ShieldRequest).shield = { decision, userId: user.userId, steppedUp };
    next();
  };
}

async function vetNewPassword(
  core: ShieldCore,
  newPassword: string,
  currentPassword: string | undefined,
  email: string,
): Promise<{ warning: string; suggestions: readonly string[]; score?: number } | undefined> {
  if (currentPassword !== undefined && newPassword === currentPassword) {
    return { warning: 'The new password must differ from the current one.', suggestions: ['Choose a password you have not used here before.'] };
  }
  const inputs = [...addressInputs(email), ...(currentPassword ? [currentPassword] : [])];
  const strength = passwordStrength(newPassword, inputs, { maxLength: core.config.password.maxScoredLength });
  if (strength.score < core.config.password.minScore) {
    return {
      warning: strength.warning || 'This password is too easy to guess.',
      suggestions: strength.suggestions.length > 0 ? strength.suggestions : ['Add another word or two. Uncommon words are better.'],
      score: strength.score,
    };
  }
  if (core.breached && (await core.breached.isBreached(newPassword).catch(() => false))) {
    return {
      warning: 'This password appears in a known data breach.',
      suggestions: ['Choose a password you have never used anywhere else.'],
      score: strength.score,
    };
  }
  return undefined;
}

/**
 * Run `commit` once the app's handler answers 2xx (or `abandon` on any other answer), before
 * the response leaves, so a client that sees "password changed" can rely on withdrawals
 * already being locked.
 */
function commitOnSuccess(res: Response, commit: () => Promise<void>, abandon: () => Promise<void>): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let done = false;
  (res as unknown as { end: (...args: unknown[]) => Response }).end = (...args: unknown[]) => {
    if (done) return end(...args);
    done = true;
    const work = res.statusCode >= 200 && res.statusCode < 300 ? commit() : abandon();
    work.finally(() => end(...args));
    return res;
  };
}
