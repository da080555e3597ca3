import type { Request, Response } from 'express';
import type { Assessment } from '../../engine/assessment.js';
import type { Settlement, ShieldEngine } from '../../engine/engine.js';
import { invalidCode, stepUpRequired, tooManyAttempts, unavailable } from '../../http/responses.js';
import type { SessionUser } from '../../http/session-user.js';

export interface ChangeStepUp {
  readonly route: string;
  readonly kind: string;
  readonly user: SessionUser;
  readonly assessment: Assessment;
  /** The `challenge` and `code` the client sent, if it answers a step-up. */
  readonly challenge: string | undefined;
  readonly code: string | undefined;
  /** The change is risky enough to need a second factor. */
  readonly required: boolean;
  readonly verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
  /** How the guard settles this change's steps (its route, verdict, monitor mode). */
  readonly step: Omit<Settlement, 'outcome' | 'counts'>;
}

/** `passed`/`not-needed`: go on; `answered`: the response is sent; `error`: the app's callback threw. */
export type StepUpResult = { kind: 'passed' } | { kind: 'not-needed' } | { kind: 'answered' } | { kind: 'error'; error: unknown };

/**
 * A credential change's second factor: checks a presented code (a wrong one counts against
 * the source like a failed login), or, when the change is risky, answers with a new challenge.
 * A code, when presented, is always checked, so a client cannot skip step-up by sending one.
 */
export async function changeStepUp(engine: ShieldEngine, req: Request, res: Response, s: ChangeStepUp): Promise<StepUpResult> {
  const { assessment } = s;
  if (s.challenge !== undefined && s.code !== undefined) {
    const presented = await engine.present(req, {
      route: s.route,
      token: s.challenge,
      code: s.code,
      purpose: s.kind,
      device: assessment.ids.device ?? null,
      account: assessment.ids.account,
      userId: s.user.userId,
      verifySecondFactor: s.verifySecondFactor,
    });
    if (presented.kind === 'store-error') return answered(() => unavailable(res));
    if (presented.kind === 'app-error') return { kind: 'error', error: presented.error };
    if (presented.outcome.ok) return { kind: 'passed' };
    await engine.settle(req, res, assessment, { ...s.step, outcome: 'failure', counts: 'failure' });
    const failure = presented.outcome.failure;
    return answered(() => (failure === 'too-many-attempts' ? tooManyAttempts(res, engine.challengeTtlSec) : invalidCode(res)));
  }
  if (!s.required) return { kind: 'not-needed' };
  let token: string;
  try {
    const factor = s.user.factor === 'email' ? 'email' : 'totp';
    token = await engine.challenge(req, res, assessment, { userId: s.user.userId, purpose: s.kind, factor }, { ...s.step, outcome: 'challenged', counts: 'nothing' });
  } catch {
    return answered(() => unavailable(res));
  }
  return answered(() => stepUpRequired(res, token, engine.challengeTtlSec));
}

function answered(send: () => void): StepUpResult {
  send();
  return { kind: 'answered' };
}
