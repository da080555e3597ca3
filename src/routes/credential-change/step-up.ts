import type { SecondFactor } from '../../challenges/challenges.js';
import type { Request, Response } from 'express';
import type { Assessment, ShieldCore } from '../../engine/engine.js';
import { invalidCode, stepUpRequired, tooManyAttempts, unavailable } from '../../http/responses.js';
import { presentChallenge } from '../present-challenge.js';

export interface ChangeStepUp {
  readonly route: string;
  readonly kind: string;
  readonly userId: string;
  readonly factor: SecondFactor | undefined;
  readonly assessment: Assessment;
  /** The `challenge` and `code` the client sent, if it answers a step-up. */
  readonly challenge: string | undefined;
  readonly code: string | undefined;
  /** The change is risky enough to need a second factor. */
  readonly required: boolean;
  readonly verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
  readonly publish: (outcome: 'failure' | 'challenged') => void;
}

/** `passed`/`not-needed`: go on; `answered`: the response is sent; `error`: the app's callback threw. */
export type StepUpResult = { kind: 'passed' } | { kind: 'not-needed' } | { kind: 'answered' } | { kind: 'error'; error: unknown };

/**
 * A credential change's second factor: checks a presented code (a wrong one counts against
 * the source like a failed login), or, when the change is risky, answers with a new challenge.
 * A code, when presented, is always checked, so a client cannot skip step-up by sending one.
 */
export async function changeStepUp(core: ShieldCore, req: Request, res: Response, s: ChangeStepUp): Promise<StepUpResult> {
  const { assessment } = s;
  if (s.challenge !== undefined && s.code !== undefined) {
    const presented = await presentChallenge(core, req, {
      route: s.route,
      token: s.challenge,
      code: s.code,
      purpose: s.kind,
      device: assessment.ids.device ?? null,
      account: assessment.ids.account,
      userId: s.userId,
      verifySecondFactor: s.verifySecondFactor,
    });
    if (presented.kind === 'store-error') return answered(() => unavailable(res));
    if (presented.kind === 'app-error') return { kind: 'error', error: presented.error };
    if (presented.outcome.ok) return { kind: 'passed' };
    await core.record(assessment, 'failure').catch(() => undefined);
    s.publish('failure');
    const failure = presented.outcome.failure;
    return answered(() => (failure === 'too-many-attempts' ? tooManyAttempts(res, core.challenges.ttlSec) : invalidCode(res)));
  }
  if (!s.required) return { kind: 'not-needed' };
  let token: string;
  try {
    token = await core.challenges.issue({
      account: assessment.ids.account,
      device: assessment.ids.device ?? null,
      userId: s.userId,
      purpose: s.kind,
      factor: s.factor === 'email' ? 'email' : 'totp',
    });
  } catch {
    return answered(() => unavailable(res));
  }
  s.publish('challenged');
  core.emit('challenge', { route: s.route, purpose: s.kind, outcome: 'issued', account: assessment.ids.account, at: core.config.now() });
  return answered(() => stepUpRequired(res, token, core.challenges.ttlSec));
}

function answered(send: () => void): StepUpResult {
  send();
  return { kind: 'answered' };
}
