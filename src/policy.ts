import type { Thresholds } from './config.js';
import type { Action, Reason } from './types.js';

export interface Verdict {
  readonly action: Action;
  readonly score: number;
}

/**
 * Points add up; the sum is compared with the route's thresholds. Kept this simple on purpose:
 * every decision can be explained by listing its reasons and adding their points.
 */
export function decide(reasons: readonly Reason[], thresholds: Thresholds): Verdict {
  const score = reasons.reduce((sum, r) => sum + r.points, 0);
  const action: Action = score >= thresholds.block ? 'block' : score >= thresholds.challenge ? 'challenge' : 'allow';
  return { action, score };
}
