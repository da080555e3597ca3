import type { Request } from 'express';
import type { ChallengeOutcome } from '../challenges.js';
import type { ShieldCore } from '../core.js';

export interface Presentation {
  readonly route: string;
  readonly token: string;
  readonly code: string;
  readonly purpose: string;
  readonly device: string | null;
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

/**
 * Check a presented challenge and code with the app's second-factor callback, and emit the
 * `challenge` event. Shared by the login step-up route and credential-change routes, which
 * only differ in what the challenge must be bound to.
 */
export async function presentChallenge(core: ShieldCore, req: Request, p: Presentation): Promise<PresentationResult> {
  let appError: unknown;
  let outcome: ChallengeOutcome;
  const codeFailures = (account: string) => ({ spec: core.specs.secondFactor, key: `{${account}}` });
  try {
    outcome = await core.challenges.verify(
      p.token,
      { device: p.device, purpose: p.purpose, account: p.account },
      async (userId) => {
        if (p.userId !== undefined && userId !== p.userId) return false;
        try {
          return (await p.verifySecondFactor(userId, p.code, req)) === true;
        } catch (error) {
          appError = error;
          return false;
        }
      },
      // Per account, across challenges: new challenges must not mean new guesses.
      async (binding) => {
        const read = await core.insured.run((s) => s.read({ counters: [codeFailures(binding.account)], keys: [] }));
        return (read.value.counters[0]?.consumed ?? 0) < core.config.secondFactor.limit;
      },
    );
    if (!outcome.ok && outcome.failure === 'wrong-code' && outcome.binding) {
      const ref = codeFailures(outcome.binding.account);
      await core.insured.run((s) => s.add([{ ...ref, points: 1 }]));
    }
  } catch {
    return { kind: 'store-error' };
  }
  if (appError !== undefined) return { kind: 'app-error', error: appError };
  core.emit('challenge', {
    route: p.route,
    purpose: p.purpose,
    outcome: outcome.ok ? 'passed' : 'failed',
    failure: outcome.ok ? undefined : outcome.failure,
    account: outcome.binding?.account ?? p.account,
    at: core.config.now(),
  });
  return { kind: 'outcome', outcome };
}
