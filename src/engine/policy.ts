import type { Thresholds } from '../config/config.js';
import type { Action, Reason } from './decision.js';

export interface Verdict {
  readonly action: Action;
  readonly score: number;
}

/**
 * Points add up; the sum is compared with the route's thresholds. Kept this simple on purpose:
 * every decision can be explained by listing its reasons and adding their points. One rule on
 * top: without a reason about the source, a block becomes a challenge — account lockout hands
 * attackers a way to lock real users out, so victims are stepped up, never refused. And a
 * reason marked `stepUp` (the strict posture's new device) makes "allow" a challenge.
 */
export function decide(reasons: readonly Reason[], thresholds: Thresholds): Verdict {
  const score = reasons.reduce((sum, r) => sum + r.points, 0);
  if (score >= thresholds.block) return { action: reasons.some((r) => r.source) ? 'block' : 'challenge', score };
  if (score >= thresholds.challenge || reasons.some((r) => r.stepUp)) return { action: 'challenge', score };
  return { action: 'allow', score };
}
