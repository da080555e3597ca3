import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ShieldCore } from '../core.js';
import { badRequest, invalidCode, tooManyAttempts, unavailable } from '../responses.js';
import type { ShieldRequest } from '../types.js';
import { stringField } from './body.js';
import { presentChallenge } from './present-challenge.js';

export interface StepUpRouteOptions {
  /** The app's own second-factor check (e.g. TOTP) for one of its users. */
  verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
  fields?: { challenge?: string; code?: string };
  name?: string;
}

export const MAX_CODE_LENGTH = 64;
export const MAX_CHALLENGE_LENGTH = 128;

/**
 * Completes a login that was answered `step_up_required`. On success the device becomes known
 * for the account and the app's handler runs with `req.shield.userId` set.
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

    const presented = await presentChallenge(core, req, {
      route,
      token: challenge.value,
      code: code.value,
      purpose: 'login',
      device: ctx.device ?? null,
      verifySecondFactor: options.verifySecondFactor,
    });
    if (presented.kind === 'store-error') return unavailable(res);
    if (presented.kind === 'app-error') return next(presented.error);
    const { outcome } = presented;
    if (!outcome.ok) {
      if (outcome.failure === 'too-many-attempts') return tooManyAttempts(res, core.challenges.ttlSec);
      return invalidCode(res);
    }

    const ids = { account: outcome.binding.account, ip: ctx.ip, subnet: ctx.subnet, device: ctx.device };
    try {
      await core.refundChallengedAttempt(ids);
      await core.markDeviceKnown(req, res, ids.account, rawDevice);
    } catch {
      // The login itself succeeded; the device will simply be asked again next time.
    }
    const decision = core.decision(route, 'step-up', { action: 'allow', score: 0, reasons: [], degraded: false, ids }, false, {
      outcome: 'success',
    });
    core.publish(decision);
    (req as ShieldRequest).shield = { decision, userId: outcome.binding.userId ?? undefined, steppedUp: true };
    next();
  };
}
