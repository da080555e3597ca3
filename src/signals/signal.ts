import type { ResolvedConfig } from '../config/config.js';
import type { Reason } from '../engine/decision.js';
import type { CounterValues } from './velocity.js';

/** Per-account password facts remembered after the account last authenticated. */
export interface PasswordFlags {
  /** zxcvbn score 0–4 of the (bounded) password. */
  readonly score: number;
  readonly breached: boolean;
}

/** Everything the signals look at, read from the store in one round trip beforehand. */
export interface SignalInput {
  readonly config: ResolvedConfig;
  /** Velocity counters by name (see `velocity.ts`). */
  readonly counters: CounterValues;
  /** `login` (an unauthenticated attempt) or `change` (a signed-in session changing credentials). */
  readonly route: 'login' | 'change';
  /** undefined: the request carried no valid device cookie. */
  readonly deviceKnown: boolean | undefined;
  readonly leakedAddress: boolean;
  /** The submitted password is a common or breached one (right or wrong); undefined: none submitted. */
  readonly listedPassword?: boolean;
  readonly passwordFlags: PasswordFlags | undefined;
  readonly waveActive: boolean;
  /** Epoch ms of the account's latest credential change, if recent. */
  readonly recentChangeAt: number | undefined;
}

/**
 * A signal is a pure function of the pre-read input: no I/O, so a decision costs one store
 * round trip however many signals run, and each signal is unit-testable on its own.
 */
export type Signal = (input: SignalInput) => readonly Reason[];
