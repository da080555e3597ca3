import type { EventEmitter } from 'node:events';
import type { Request } from 'express';
import type { ShieldEventMap } from '../engine/events.js';
import type { ChallengeOutcome, Challenges } from './challenges.js';

export interface PresentDeps {
  readonly challenges: Challenges;
  readonly events: Pick<EventEmitter<ShieldEventMap>, 'emit'>;
  readonly now: () => number;
  /** `secondFactor.limit`: live wrong codes at which the budget is spent. */
  readonly limit: number;
}

export interface Presentation {
  readonly route: string;
  readonly token: string;
  readonly code: string;
  readonly purpose: string;
  readonly device: string | null;
  /** Keyed IP of the presenting client (scopes the budget of challenges no session can come from). */
  readonly source?: string;
  /** Keyed account the challenge must be bound to, when the route knows it. */
  readonly account?: string;
  /** App user the challenge must belong to, when the route knows it. */
  readonly userId?: string;
  readonly verifySecondFactor: (userId: string, code: string, req: Request) => boolean | Promise<boolean>;
}

export type PresentationResult =
  | { readonly kind: 'outcome'; readonly outcome: ChallengeOutcome }
  | { readonly kind: 'app-error'; readonly error: unknown }
  | { readonly kind: 'store-error' };

/** Live wrong codes at which the owner is told someone with their password is guessing. */
const GUESSING_ALERTS = new Set([3, 10]);

/**
 * Check a presented challenge and code with the app's second-factor callback, and emit the
 * `challenge` event (and `second-factor.guessing` when someone who has the password keeps
 * guessing codes). Shared by the login step-up route and credential-change routes, which only
 * differ in what the challenge must be bound to.
 */
export async function presentChallenge(deps: PresentDeps, req: Request, p: Presentation): Promise<PresentationResult> {
  let appError: unknown;
  let outcome: ChallengeOutcome;
  try {
    outcome = await deps.challenges.verify(p.token, p.code, { device: p.device, purpose: p.purpose, account: p.account, source: p.source }, async (userId) => {
      try {
        const right = (await p.verifySecondFactor(userId, p.code, req)) === true;
        return right && (p.userId === undefined || userId === p.userId);
      } catch (error) {
        appError = error;
        return false;
      }
    });
  } catch {
    return { kind: 'store-error' };
  }
  if (appError !== undefined) return { kind: 'app-error', error: appError };
  const at = deps.now();
  deps.events.emit('challenge', {
    route: p.route,
    purpose: p.purpose,
    outcome: outcome.ok ? 'passed' : 'failed',
    failure: outcome.ok ? undefined : outcome.failure,
    account: outcome.binding?.account ?? p.account,
    at,
  });
  const wrong = !outcome.ok && outcome.failure !== 'wrong-password' ? outcome.liveWrongCodes : undefined;
  const { limit } = deps;
  if (wrong !== undefined && outcome.binding?.userId && (wrong === limit || (GUESSING_ALERTS.has(wrong) && wrong < limit))) {
    deps.events.emit('second-factor.guessing', {
      userId: outcome.binding.userId,
      purpose: p.purpose,
      wrongCodes: wrong,
      limit,
      blocked: wrong >= limit,
      at,
    });
  }
  return { kind: 'outcome', outcome };
}
