import type { Decision } from './types.js';

/** Outcome of presenting a step-up challenge. */
export interface ChallengeEvent {
  readonly route: string;
  readonly purpose: string;
  readonly outcome: 'issued' | 'passed' | 'failed';
  readonly failure?: string;
  /** HMAC-keyed account id the challenge is bound to. */
  readonly account?: string;
  readonly at: number;
}

export interface StoreEvent {
  readonly store: string;
  readonly error?: string;
}

/**
 * Typed events. Identifiers in them are HMAC-keyed, except the app's own user id on events
 * meant for notifying that user (credential and lock events, added by the locks module).
 */
export interface ShieldEventMap {
  decision: [Decision];
  challenge: [ChallengeEvent];
  'store.degraded': [StoreEvent];
  'store.recovered': [StoreEvent];
}
