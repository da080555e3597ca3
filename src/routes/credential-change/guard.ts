import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkThresholds, type Thresholds } from '../../config/config.js';
import type { Assessment, ShieldCore } from '../../engine/engine.js';
import type { Locks, PendingChange } from '../../locks/locks.js';
import { decide } from '../../engine/policy.js';
import { badRequest, tooManyAttempts, unavailable } from '../../http/responses.js';
import type { Reason } from '../../engine/decision.js';
import type { ShieldRequest } from '../../http/request-state.js';
import { optionalStringField, stringField } from '../../http/body.js';
import { settleOnAnswer } from './outcome.js';
import { changeStepUp } from './step-up.js';
import { MAX_PASSWORD_LENGTH } from '../login.js';
import { countWrongCurrentPassword, guessCounter, guessingReasons } from './current-password.js';
import { vetNewPassword } from './new-password.js';
import { type GetUser, resolveUser, type SessionUser } from '../../http/session-user.js';
import { MAX_CHALLENGE_LENGTH, MAX_CODE_LENGTH } from '../step-up.js';

export interface CredentialChangeRouteOptions {
  /** The signed-in user of this request (the app authenticates the session itself). */
  getUser: GetUser<SessionUser>;
  /** The app's second-factor check, for step-up on risky changes. */
  verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
  /**
   * The app's current-password check. With it, the guard requires `currentPasswordField`,
   * checks it once any step-up has passed, answers a wrong one 403 `{error:"forbidden"}` and
   * counts it against the source and the account like a failed login, so a stolen session
   * cannot guess the password: velocity steps it up, then blocks its source.
   */
  verifyCurrentPassword?: (userId: string, password: string, req: Request) => boolean | Promise<boolean>;
  /**
   * Names the signed-in session (keyed before it is stored), so that after 5 wrong current
   * passwords in an hour that session, not the whole account, must step up. Without it the
   * count is per account.
   */
  sessionId?: (req: Request) => string | undefined;
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
  /**
   * The address in force after a successful change, when the body does not carry it (e.g. a
   * confirm-by-code step); called after the app answered 2xx. Takes precedence over the field.
   */
  newEmail?: (userId: string, req: Request) => string | undefined | Promise<string | undefined>;
  /** Called after a successful change, before the response, e.g. to revoke other sessions. */
  onChanged?: (userId: string, req: Request) => void | Promise<void>;
  /** Whether this change locks withdrawals (e.g. only API keys with withdraw permission). */
  lockWithdrawals?: boolean | ((req: Request) => boolean);
  thresholds?: Partial<Thresholds>;
  monitor?: boolean;
  name?: string;
}

const PASSWORD_KINDS = new Set(['password', 'password-reset']);
const MAX_ADDRESS_LENGTH = 320;

type Outcome = 'success' | 'failure' | 'blocked' | 'challenged';

/**
 * Guards a credential change: scores it with the login engine (velocity, device, leaked
 * address, recent changes, session age), vets a new password, demands step-up when risky,
 * checks the current password when the app hands over its check, holds withdrawals for the
 * change's full lock duration before the app's handler runs, and once that handler answers 2xx
 * records the lock (see `change-outcome.ts`).
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
    const fields = readFields(req.body ?? {}, newPasswordField, currentPasswordField, options.verifyCurrentPassword !== undefined);
    if (typeof fields === 'string') return badRequest(res, fields);
    const route = options.name ?? req.path;

    const guesses = options.verifyCurrentPassword ? guessCounter(core, core.accountOf(user.email), options.sessionId?.(req)) : undefined;
    let assessment: Assessment;
    let guessing: Reason[];
    try {
      // Fail closed: a change we could not lock withdrawals after must not happen.
      [assessment, guessing] = await Promise.all([
        core.assess(req, user.email, thresholds, false),
        guesses ? guessingReasons(core, guesses) : [],
      ]);
    } catch {
      return unavailable(res);
    }
    const reasons: Reason[] = [...assessment.reasons, ...staleSession(core, user), ...guessing];
    const verdict = atLeastChallenge(decide(reasons, thresholds), guessing.length > 0);
    const scored = { ...assessment, reasons, ...verdict };
    const enforced = monitor ? 'allow' : verdict.action;
    const publish = (outcome: Outcome, retryAfterSeconds?: number) => {
      const decision = core.decision(route, 'credential-change', scored, monitor, { change: kind, outcome, retryAfterSeconds, startedAt });
      core.publish(decision);
      return decision;
    };

    if (enforced === 'block') {
      const retry = core.retryAfterSeconds(assessment);
      publish('blocked', retry);
      return tooManyAttempts(res, retry);
    }
    if (fields.newPassword !== undefined) {
      // Only authenticated, unblocked sessions reach zxcvbn, and on a bounded input.
      const refusal = await vetNewPassword(core, fields.newPassword, fields.currentPassword, user.email);
      if (refusal) {
        publish('failure');
        res.status(400).json({ error: 'weak_password', feedback: refusal });
        return;
      }
    }

    // Before the current password is checked: a risky session learns nothing about it.
    const stepUp = await changeStepUp(core, req, res, {
      route,
      kind,
      userId: user.userId,
      factor: user.factor,
      assessment,
      challenge: fields.challenge,
      code: fields.code,
      required: enforced === 'challenge',
      verifySecondFactor: options.verifySecondFactor,
      publish,
    });
    if (stepUp.kind === 'error') return next(stepUp.error);
    if (stepUp.kind === 'answered') return;
    const steppedUp = stepUp.kind === 'passed';

    if (options.verifyCurrentPassword && guesses && fields.currentPassword !== undefined) {
      let right: boolean;
      try {
        right = (await options.verifyCurrentPassword(user.userId, fields.currentPassword, req)) === true;
      } catch (error) {
        return next(error);
      }
      if (!right) {
        await countWrongCurrentPassword(core, assessment, guesses);
        publish('failure');
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
        publish('failure');
        return unavailable(res);
      }
    }
    const decision = publish('success');
    const userId = user.userId;
    const newEmail = () => {
      if (options.newEmail) return options.newEmail(userId, req);
      const field = newEmailField ? optionalStringField(req.body ?? {}, newEmailField, MAX_ADDRESS_LENGTH) : undefined;
      return field?.ok ? field.value : undefined;
    };
    settleOnAnswer(res, core, locks, {
      kind,
      userId,
      risky,
      steppedUp,
      assessment,
      hold,
      changesPassword: fields.newPassword !== undefined,
      newEmail,
      onChanged: options.onChanged,
    });
    (req as ShieldRequest).shield = { decision, userId, steppedUp };
    next();
  };
}

interface ChangeFields {
  challenge?: string;
  code?: string;
  newPassword?: string;
  currentPassword?: string;
}

/** The fields the guard reads, checked; a string is what is wrong with them. */
function readFields(body: unknown, newPasswordField: string | undefined, currentPasswordField: string, currentRequired: boolean): ChangeFields | string {
  const challenge = optionalStringField(body, 'challenge', MAX_CHALLENGE_LENGTH);
  if (challenge && !challenge.ok) return challenge.detail;
  const code = optionalStringField(body, 'code', MAX_CODE_LENGTH);
  if (code && !code.ok) return code.detail;
  if (Boolean(challenge) !== Boolean(code)) return 'challenge and code go together';
  const fields: ChangeFields = { challenge: challenge?.value, code: code?.value };
  if (newPasswordField) {
    const field = stringField(body, newPasswordField, MAX_PASSWORD_LENGTH);
    if (!field.ok) return field.detail;
    fields.newPassword = field.value;
  }
  if (newPasswordField || currentRequired) {
    const current = currentRequired ? stringField(body, currentPasswordField, MAX_PASSWORD_LENGTH) : optionalStringField(body, currentPasswordField, MAX_PASSWORD_LENGTH);
    if (current && !current.ok) return current.detail;
    fields.currentPassword = current?.value;
  }
  return fields;
}

/** Past the current-password guess limit, a change needs step-up whatever else it scores. */
function atLeastChallenge(verdict: ReturnType<typeof decide>, guessing: boolean): ReturnType<typeof decide> {
  return guessing && verdict.action === 'allow' ? { ...verdict, action: 'challenge' } : verdict;
}

/** OWASP: re-authenticate before changing credentials on an old session. */
function staleSession(core: ShieldCore, user: SessionUser): Reason[] {
  const sessionStart = user.sessionStartedAt instanceof Date ? user.sessionStartedAt.getTime() : user.sessionStartedAt;
  const { maxSessionAgeSec, staleSessionPoints } = core.config.credentialChange;
  if (typeof sessionStart === 'number' && core.config.now() - sessionStart > maxSessionAgeSec * 1000) {
    return [{ signal: 'session.stale', points: staleSessionPoints, detail: `session older than ${maxSessionAgeSec} s` }];
  }
  return [];
}
