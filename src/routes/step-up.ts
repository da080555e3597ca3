import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ShieldEngine } from '../engine/engine.js';
import { stringField } from '../http/body.js';
import { MAX_CHALLENGE_LENGTH, MAX_CODE_LENGTH } from '../http/limits.js';
import { badRequest, invalidCode, invalidCredentials, tooManyAttempts, unavailable } from '../http/responses.js';
import type { ResolvedStepUp } from '../config/route-options.js';

/**
 * Completes a login that was answered `step_up_required`. On success the device becomes known
 * for the account and the app's handler runs with `req.shield.userId` set. When the second
 * factor was right but the password had been wrong, the owner is told so
 * (`invalid_credentials`) and this device's next login with the right password passes without
 * another code; a stranger without the factor only ever sees `invalid_code`.
 */
export function stepUpGuard(engine: ShieldEngine, options: ResolvedStepUp): RequestHandler {
  const { challenge: challengeField, code: codeField } = options.fields;

  return async (req: Request, res: Response, next: NextFunction) => {
    const challenge = stringField(req.body, challengeField, MAX_CHALLENGE_LENGTH);
    if (!challenge.ok) return badRequest(res, challenge.detail);
    const code = stringField(req.body, codeField, MAX_CODE_LENGTH);
    if (!code.ok) return badRequest(res, code.detail);
    const result = await engine.completeStepUp(req, res, {
      route: options.name ?? req.path,
      token: challenge.value,
      code: code.value,
      verifySecondFactor: options.verifySecondFactor,
    });
    switch (result.kind) {
      case 'passed':
        return next();
      case 'wrong-password':
        return invalidCredentials(res);
      case 'wrong-code':
        return invalidCode(res);
      case 'too-many-attempts':
        return tooManyAttempts(res, engine.challengeTtlSec);
      case 'store-error':
        return unavailable(res);
      case 'app-error':
        return next(result.error);
    }
  };
}
