import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ShieldCore } from '../engine/engine.js';
import { badRequest, invalidCode, invalidCredentials, tooManyAttempts, unavailable } from '../http/responses.js';
import type { ShieldRequest } from '../http/request-state.js';
import { stringField } from '../http/body.js';
import { presentChallenge } from './present-challenge.js';

export interface StepUpRouteOptions {
  /**
   * The app's own second-factor check (e.g. TOTP) for one of its users. It is also called with
   * `DECOY_USER_ID` (no such user) for challenges nobody can pass: do the same work as for a
   * real user (e.g. check against a dummy secret) and answer false, so both take as long.
   */
  verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
  fields?: { challenge?: string; code?: string };
  name?: string;
}

export const MAX_CODE_LENGTH = 64;
export const MAX_CHALLENGE_LENGTH = 128;

/**
 * Completes a login that was answered `step_up_required`. On success the device becomes known
 * for the account and the app's handler runs with `req.shield.userId` set. When the second
 * factor was right but the password had been wrong, the owner is told so
 * (`invalid_credentials`) and this device's next login with the right password passes without
 * another code; a stranger without the factor only ever sees `invalid_code`.
 */
export function stepUpGuard(core: ShieldCore, options: StepUpRouteOptions): RequestHandler {
  const challengeField = options.fields?.challenge ?? 'challenge';
  const codeField = options.fields?.code ?? 'code';

  return async (req: Request, res: Response, next: NextFunction) => {
    const challenge = stringField(req.body, challengeField, MAX_CHALLENGE_LENGTH);
    if (!challenge.ok) return badRequest(res, challenge.detail);
    const code = stringField(req.body, codeField, MAX_CODE_LENGTH);
    if (!code.ok) return badRequest(res, code.detail);
    const route = options.name ?? req.path;
    const rawDevice = core.devices.read(req);
    const ctx = core.context.read(req, rawDevice);

    const publish = (outcome: 'success' | 'failure', ids: { ip: string; subnet: string; account?: string; device?: string }) => {
      const decision = core.decision(route, 'step-up', { action: 'allow', score: 0, reasons: [], degraded: false, ids }, false, { outcome });
      core.publish(decision);
      return decision;
    };
    const presented = await presentChallenge(core, req, {
      route,
      token: challenge.value,
      code: code.value,
      purpose: 'login',
      device: ctx.device ?? null,
      source: ctx.ip,
      verifySecondFactor: options.verifySecondFactor,
    });
    if (presented.kind === 'store-error') return unavailable(res);
    if (presented.kind === 'app-error') return next(presented.error);
    const { outcome } = presented;
    const ids = { account: outcome.binding?.account ?? '', ip: ctx.ip, subnet: ctx.subnet, site: ctx.site, device: ctx.device };
    if (!outcome.ok && outcome.failure === 'wrong-password' && outcome.binding) {
      try {
        // It was the owner: take the challenged failure back, and let this device's next
        // login with the right password through without a second code.
        await core.refundChallengedAttempt(ids);
        const raw = rawDevice ?? core.devices.mint();
        if (rawDevice === undefined) core.devices.write(req, res, raw);
        await core.grantSecondFactorPass(ids.account, core.key('dev', raw));
      } catch {
        // The owner still learns the password was wrong; the next login simply asks again.
      }
      publish('failure', ids);
      return invalidCredentials(res);
    }
    if (!outcome.ok) {
      if (outcome.failure === 'too-many-attempts') return tooManyAttempts(res, core.challenges.ttlSec);
      // A wrong code counts against its source like a failed login, so a source guessing codes
      // is soon refused at the login itself.
      await core.recordSourceFailure(ids).catch(() => undefined);
      return invalidCode(res);
    }

    try {
      await core.refundChallengedAttempt(ids);
      await core.markDeviceKnown(req, res, ids.account, rawDevice);
    } catch {
      // The login itself succeeded; the device will simply be asked again next time.
    }
    const decision = publish('success', ids);
    (req as ShieldRequest).shield = { decision, userId: outcome.binding.userId ?? undefined, steppedUp: true };
    next();
  };
}
