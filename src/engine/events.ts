import type { LockReason } from '../stores/store.js';
import type { Decision } from './decision.js';

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

/**
 * Someone who has the account's password keeps presenting wrong second-factor codes: tell the
 * owner (their password is known) and ask them to change it. Sent at 3 and 10 wrong codes and
 * when the budget is spent (`blocked`: codes on such challenges are refused until it resets).
 */
export interface SecondFactorGuessingEvent {
  readonly userId: string;
  readonly purpose: string;
  readonly wrongCodes: number;
  readonly limit: number;
  readonly blocked: boolean;
  readonly at: number;
}

export interface StoreEvent {
  readonly store: string;
  readonly error?: string;
}

/**
 * Credential and lock events carry the app's own user id (not an email or IP) so the app can
 * notify the owner; nothing else in them identifies a person.
 */
export interface CredentialChangedEvent {
  readonly userId: string;
  readonly kind: string;
  /** True when the change needed (and passed) step-up, so it locked for longer. */
  readonly risky: boolean;
  readonly steppedUp: boolean;
  /** Epoch ms withdrawals are locked until, when this kind locks. */
  readonly withdrawalsLockedUntil: number | null;
  readonly at: number;
}

export interface WithdrawalsLockedEvent {
  readonly userId: string;
  readonly until: number;
  readonly cause: LockReason;
  readonly reasons: readonly LockReason[];
  readonly at: number;
}

export interface WithdrawalsUnlockedEvent {
  readonly userId: string;
  readonly reason: string;
  readonly actor: string;
  readonly wasLockedUntil: number | null;
  readonly at: number;
}

export interface ShieldEventMap {
  decision: [Decision];
  challenge: [ChallengeEvent];
  'second-factor.guessing': [SecondFactorGuessingEvent];
  'credential.changed': [CredentialChangedEvent];
  'withdrawals.locked': [WithdrawalsLockedEvent];
  'withdrawals.unlocked': [WithdrawalsUnlockedEvent];
  'store.degraded': [StoreEvent];
  'store.recovered': [StoreEvent];
}
