import type { RequestContext } from '../identity/client-context.js';
import type { PasswordFlags } from '../signals/signal.js';
import type { CounterValues, VelocityRefs } from '../signals/velocity.js';
import type { Baseline } from '../signals/wave.js';
import type { Action, Reason } from './decision.js';

/** Identifiers of one attempt, all HMAC-keyed. */
export interface AttemptIds {
  readonly account: string;
  readonly ip: string;
  readonly subnet: string;
  readonly site?: string;
  readonly device?: string;
}

/** One scored attempt: what was read, what the signals said, what the policy decided. */
export interface Assessment {
  readonly ctx: RequestContext;
  readonly ids: AttemptIds;
  readonly reasons: Reason[];
  readonly action: Action;
  readonly score: number;
  readonly counters: CounterValues;
  readonly refs: VelocityRefs;
  readonly passwordFlags: PasswordFlags | undefined;
  /** The (account, device) pair has passed a second factor (and is still remembered). */
  readonly deviceKnown: boolean;
  /** Epoch ms the (account, device) pair was last remembered; undefined when not known. */
  readonly deviceSeenAt: number | undefined;
  /** This device passed a second factor for the account minutes ago (the typo path). */
  readonly secondFactorPassed: boolean;
  /** The submitted password is a common or breached one (only looked at from a device the account does not know). */
  readonly listedPassword: boolean;
  /** A wave was already declared (its flag was read): recording need not declare it again. */
  readonly waveFlagged: boolean;
  readonly baseline: Baseline | undefined;
  readonly degraded: boolean;
  /** Values of the route's own counters (`AssessOptions.also`), in order. */
  readonly also: readonly number[];
}

export type AttemptOutcome = 'success' | 'failure' | 'blocked';

/** What the app told the shield privately about an attempt (never part of the answer). */
export interface AttemptFacts {
  /** No account has the address. */
  readonly unknownAccount?: boolean;
}
