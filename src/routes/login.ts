import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SecondFactor } from '../challenges/challenges.js';
import type { Thresholds } from '../config/config.js';
import type { Assessment } from '../engine/assessment.js';
import type { Settlement, ShieldEngine } from '../engine/engine.js';
import { badRequest, invalidCredentials, stepUpRequired, tooManyAttempts, unavailable } from '../http/responses.js';
import { type AccountLookup, type AuthResult, isPromiseLike } from './callbacks.js';
import { stringField } from '../http/body.js';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../http/limits.js';
import type { ResolvedLogin } from '../config/route-options.js';

/** A login route's options with the shield's defaults filled in, checked at mount. */
export interface LoginSettings {
  readonly thresholds: Thresholds;
  readonly monitor: boolean;
  readonly failOpen: boolean;
}

/**
 * Login guard. Refuses blocked sources before the app spends a password hash on them, asks
 * for a second factor from every device that has not passed one for the account (default
 * posture) or whenever the attempt is risky, with the same answer whether or not the password
 * was right (no validity oracle), and on success hands over to the app's handler with
 * `req.shield.userId` set.
 */
export function loginGuard(engine: ShieldEngine, options: ResolvedLogin, settings: LoginSettings): RequestHandler {
  const { thresholds, monitor, failOpen } = settings;

  return async (req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    // Express gives each request an object shape of its own, so every property read of one
    // misses V8's inline caches (a runtime lookup each): the body is read once.
    const body: unknown = req.body;
    const email = stringField(body, options.fields.email, MAX_EMAIL_LENGTH);
    if (!email.ok) return badRequest(res, email.detail);
    const password = stringField(body, options.fields.password, MAX_PASSWORD_LENGTH);
    if (!password.ok) return badRequest(res, password.detail);
    const route = options.name ?? req.path;

    let assessment: Assessment;
    try {
      // The embedded store answers at once: awaiting only what is a promise saves its ticks.
      const assessing = engine.assess(req, email.value, { route: 'login', password: password.value, thresholds, failOpen });
      assessment = assessing instanceof Promise ? await assessing : assessing;
    } catch {
      return unavailable(res);
    }
    const enforced = monitor ? 'allow' : assessment.action;
    if (enforced === 'block') {
      // On the embedded store a decision settles at once: awaiting only a promise saves a tick.
      const settling = engine.settle(req, res, assessment, loginSettlement(route, monitor, startedAt, 'blocked', 'blocked'));
      const decision = settling instanceof Promise ? await settling : settling;
      return tooManyAttempts(res, decision.retryAfterSeconds ?? 60);
    }

    let auth: AuthResult;
    try {
      const authenticating = options.authenticate(email.value, password.value, req);
      auth = isPromiseLike(authenticating) ? await authenticating : authenticating;
    } catch (error) {
      return next(error);
    }
    const authenticated = auth && 'userId' in auth && typeof auth.userId === 'string' && auth.userId.length > 0 ? auth : undefined;
    const userId = authenticated?.userId;
    const unknownAccount = Boolean(auth && 'unknownAccount' in auth && auth.unknownAccount === true);

    // The typo path's second half: this device passed the second factor minutes ago.
    const pass = enforced === 'challenge' ? engine.takeSecondFactorPass(assessment) : false;
    if (enforced === 'challenge' && !(pass === false ? false : await pass)) {
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
        challenge = await engine.challenge(
          req,
          res,
          assessment,
          { userId: owner, purpose: 'login', passwordOk: userId !== undefined, factor },
          loginSettlement(route, monitor, startedAt, 'challenged', 'failure', {
            unknownAccount: unknownAccount || (options.lookupAccount !== undefined && owner === null),
          }),
        );
      } catch {
        return unavailable(res);
      }
      return stepUpRequired(res, challenge, engine.challengeTtlSec);
    }

    if (userId === undefined) {
      const settling = engine.settle(req, res, assessment, loginSettlement(route, monitor, startedAt, 'failure', 'failure', { unknownAccount }));
      if (settling instanceof Promise) await settling;
      return invalidCredentials(res);
    }
    const settled = engine.settle(
      req,
      res,
      assessment,
      loginSettlement(route, monitor, startedAt, 'success', 'success', undefined, { userId }, { address: email.value, password: password.value }),
    );
    if (settled instanceof Promise) await settled;
    next();
  };
}

/**
 * How a login step ends, as one literal with every field in the same order whatever the
 * outcome (one shape for the engine to see): no spread copy, and no closure made per login.
 */
function loginSettlement<O extends Settlement['outcome']>(
  route: string,
  monitor: boolean,
  startedAt: number,
  outcome: O,
  counts: Settlement['counts'],
  facts?: Settlement['facts'],
  state?: Settlement['state'],
  signIn?: Settlement['signIn'],
): Settlement & { readonly outcome: O } {
  return { route, kind: 'login', monitor, startedAt, outcome, counts, facts, state, signIn };
}
