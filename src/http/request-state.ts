import type { Request } from 'express';
import type { Decision } from '../engine/decision.js';

/** Attached to the request as `req.shield` by every shield middleware. */
export interface ShieldRequestState {
  decision?: Decision;
  /** The authenticated app user id, set once login or step-up succeeded. */
  userId?: string;
  /** True when this request passed a step-up challenge. */
  steppedUp?: boolean;
}

export type ShieldRequest = Request & { shield?: ShieldRequestState };
