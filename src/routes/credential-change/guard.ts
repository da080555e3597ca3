import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CredentialChangeOptions, PasswordOptions, Thresholds } from '../../config/config.js';
import type { Logger } from '../../config/logger.js';
import type { Assessment } from '../../engine/assessment.js';
import type { Reason } from '../../engine/decision.js';
import type { Settlement, ShieldEngine } from '../../engine/engine.js';
import { decide } from '../../engine/policy.js';
import { badRequest, tooManyAttempts, unavailable } from '../../http/responses.js';
import { resolveUser, type SessionUser } from '../../http/session-user.js';
import { commitOnSuccess } from '../../locks/commit-change.js';
import type { Locks, PendingChange } from '../../locks/locks.js';
import { checkCurrentPassword, guessCounter, guessingReasons } from './current-password.js';
import { readChangeFields } from './fields.js';
import { vetNewPassword } from './new-password.js';
import { changeStepUp } from './step-up.js';
import type { ResolvedCredentialChange } from '../../config/route-options.js';

/** A credential-change route's settings with the shield's defaults filled in, checked at mount. */
export interface ChangeSettings {
  readonly thresholds: Thresholds;
  readonly monitor: boolean;
  readonly session: Pick<CredentialChangeOptions, 'maxSessionAgeSec' | 'staleSessionPoints'>;
  readonly password: PasswordOptions;
  readonly logger: Logger;
}

const PASSWORD_KINDS = new Set(['password', 'password-reset']);

/**
 * Guards a credential change: scores it with the login engine (velocity, device, leaked
 * address, recent changes, session age), vets a new password, demands step-up when risky,
 * checks the current password when the app hands over its check, holds withdrawals for the
 * change's full lock duration before the app's handler runs, and once that handler answers 2xx
 * records the lock (`locks/commit-change.ts`).
 */
export function credentialChangeGuard(engine: ShieldEngine, locks: Locks, kind: string, options: ResolvedCredentialChange, settings: ChangeSettings): RequestHandler {
  locks.assertKind(kind);
  const newPasswordField = options.newPasswordField ?? (PASSWORD_KINDS.has(kind) ? 'newPassword' : undefined);
  const currentPasswordField = options.currentPasswordField ?? 'currentPassword';
  const newEmailField = options.newEmailField ?? (kind === 'email' ? 'email' : undefined);
  const { thresholds, monitor } = settings;

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
    const fields = readChangeFields(req.body ?? {}, { newPasswordField, currentPasswordField, newEmailField, currentRequired: options.verifyCurrentPassword !== undefined });
    if (fields.problem !== undefined) return badRequest(res, fields.problem);

    const guesses = options.verifyCurrentPassword ? guessCounter(engine, engine.accountOf(user.email), options.sessionId?.(req)) : undefined;
    let assessment: Assessment;
    try {
      // Fail closed: a change we could not lock withdrawals after must not happen. The session's
      // wrong-current-password counter is read in the same round trip.
      assessment = await engine.assess(req, user.email, { route: 'change', thresholds, failOpen: false, also: guesses ? [guesses] : [] });
    } catch {
      return unavailable(res);
    }
    const guessing = guessingReasons(assessment.also[0]);
    const reasons: Reason[] = [...assessment.reasons, ...staleSession(engine.now(), settings.session, user), ...guessing];
    const verdict = { ...atLeastChallenge(decide(reasons, thresholds), guessing.length > 0), reasons };
    const enforced = monitor ? 'allow' : verdict.action;
    const route = options.name ?? req.path;
    const step = { route, kind: 'credential-change', change: kind, monitor, startedAt, verdict } as const;
    const settle = (outcome: Settlement['outcome'], extra: Pick<Settlement, 'counts' | 'alsoCount' | 'state'> = { counts: 'nothing' }) =>
      engine.settle(req, res, assessment, { ...step, outcome, ...extra });

    if (enforced === 'block') {
      const decision = await settle('blocked');
      return tooManyAttempts(res, decision.retryAfterSeconds ?? 60);
    }
    if (fields.newPassword !== undefined) {
      // Only authenticated, unblocked sessions reach zxcvbn, and on a bounded input.
      const refusal = await vetNewPassword(engine, settings.password, fields.newPassword, fields.currentPassword, user.email);
      if (refusal) {
        await settle('failure');
        res.status(400).json({ error: 'weak_password', feedback: refusal });
        return;
      }
    }

    // Before the current password is checked: a risky session learns nothing about it.
    const stepUp = await changeStepUp(engine, req, res, {
      route,
      kind,
      user,
      assessment,
      challenge: fields.challenge,
      code: fields.code,
      required: enforced === 'challenge',
      verifySecondFactor: options.verifySecondFactor,
      step,
    });
    if (stepUp.kind === 'error') return next(stepUp.error);
    if (stepUp.kind === 'answered') return;
    const steppedUp = stepUp.kind === 'passed';

    if (options.verifyCurrentPassword && guesses && fields.currentPassword !== undefined) {
      const current = await checkCurrentPassword(options.verifyCurrentPassword, user.userId, fields.currentPassword, req);
      if (current.error !== undefined) return next(current.error);
      if (!current.right) {
        // Like a failed login (source and account), and against the session's own guess counter.
        await settle('failure', { counts: 'failure', alsoCount: [guesses] });
        res.status(403).json({ error: 'forbidden' });
        return;
      }
    }

    const risky = verdict.action !== 'allow';
    const shouldLock = typeof options.lockWithdrawals === 'function' ? options.lockWithdrawals(req) : options.lockWithdrawals !== false;
    let hold: PendingChange | undefined;
    if (shouldLock) {
      // Fail closed: withdrawals are held for the change's full lock before it can happen; if
      // the hold cannot be written, the change does not happen.
      hold = locks.pending(user.userId, kind, risky);
      try {
        await locks.hold(hold);
      } catch {
        // The write may still land later; settling it too keeps a refused change from holding.
        locks.settle(hold).catch(() => undefined);
        await settle('failure');
        return unavailable(res);
      }
    }
    const userId = user.userId;
    await settle('success', { counts: 'nothing', state: { userId, steppedUp } });
    commitOnSuccess(res, engine, locks, settings.logger, {
      kind,
      userId,
      risky,
      steppedUp,
      account: assessment.ids.account,
      device: assessment.ids.device,
      hold,
      changesPassword: fields.newPassword !== undefined,
      newEmail: () => (options.newEmail ? options.newEmail(userId, req) : fields.newEmail),
      onChanged: options.onChanged,
    });
    next();
  };
}

/** Past the current-password guess limit, a change needs step-up whatever else it scores. */
function atLeastChallenge(verdict: ReturnType<typeof decide>, guessing: boolean): ReturnType<typeof decide> {
  return guessing && verdict.action === 'allow' ? { ...verdict, action: 'challenge' } : verdict;
}

/** OWASP: re-authenticate before changing credentials on an old session. */
function staleSession(now: number, session: ChangeSettings['session'], user: SessionUser): Reason[] {
  const sessionStart = user.sessionStartedAt instanceof Date ? user.sessionStartedAt.getTime() : user.sessionStartedAt;
  const { maxSessionAgeSec, staleSessionPoints } = session;
  if (typeof sessionStart === 'number' && now - sessionStart > maxSessionAgeSec * 1000) {
    return [{ signal: 'session.stale', points: staleSessionPoints, detail: `session older than ${maxSessionAgeSec} s` }];
  }
  return [];
}
