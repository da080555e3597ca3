export type Action = 'allow' | 'challenge' | 'block';

/** The route kinds the shield guards; credential-change kinds are configurable strings. */
export type RouteKind = 'login' | 'step-up' | 'credential-change' | 'withdrawal';

/** One signal's contribution to a decision. */
export interface Reason {
  /** Signal name, e.g. `leaked-address`, `velocity.ip`, `device.new`. */
  readonly signal: string;
  /** Points added (negative lowers risk). */
  readonly points: number;
  /** Short human explanation; never contains raw identifiers. */
  readonly detail: string;
  /**
   * True when the signal describes the request's source (its IP or subnet). Only a decision
   * with a source reason may block: signals about the account (leaked, failures against it,
   * new device, a wave) can ask for step-up but never refuse the owner.
   */
  readonly source?: boolean;
  /** True when this reason alone requires step-up, whatever the score (the strict posture's new device). */
  readonly stepUp?: boolean;
}

/** HMAC-keyed identifiers of the request (never raw email, IP or device id). */
export interface DecisionIds {
  readonly account?: string;
  readonly ip: string;
  readonly subnet: string;
  readonly device?: string;
}

export interface Decision {
  readonly route: string;
  readonly kind: RouteKind;
  /** For credential changes, which change (`password`, `email`, ...). */
  readonly change?: string;
  /** What the policy decided. */
  readonly action: Action;
  /** What was actually done: equals `action` unless monitor mode (then always `allow`). */
  readonly enforced: Action;
  readonly monitor: boolean;
  readonly score: number;
  readonly reasons: readonly Reason[];
  readonly ids: DecisionIds;
  /** Seconds until the source may retry, for blocks. */
  readonly retryAfterSeconds?: number;
  /** True when the store could not answer and local insurance limits were used. */
  readonly degraded?: boolean;
  /** What happened after the decision, where the shield saw it (e.g. the password was wrong). */
  readonly outcome?: 'success' | 'failure' | 'blocked' | 'challenged';
  /** Milliseconds the guard spent from receiving the request to this decision. */
  readonly elapsedMs?: number;
  readonly at: number;
}

/** What a guard saw happen after the decision. */
export type DecisionOutcome = NonNullable<Decision['outcome']>;

/** The parts of a decision a route knows; the engine adds the rest. */
export interface DecisionFacts {
  readonly route: string;
  readonly kind: RouteKind;
  readonly change?: string;
  readonly action: Action;
  readonly score: number;
  readonly reasons: readonly Reason[];
  readonly ids: DecisionIds;
  readonly monitor: boolean;
  readonly outcome?: DecisionOutcome;
  readonly retryAfterSeconds?: number;
  readonly degraded?: boolean;
  /** `performance.now()` when the guard received the request. */
  readonly startedAt?: number;
}

export function buildDecision(facts: DecisionFacts, at: number): Decision {
  return {
    route: facts.route,
    kind: facts.kind,
    change: facts.change,
    action: facts.action,
    enforced: facts.monitor ? 'allow' : facts.action,
    monitor: facts.monitor,
    score: facts.score,
    reasons: facts.reasons,
    ids: { account: facts.ids.account, ip: facts.ids.ip, subnet: facts.ids.subnet, device: facts.ids.device },
    retryAfterSeconds: facts.retryAfterSeconds,
    degraded: facts.degraded || undefined,
    outcome: facts.outcome,
    elapsedMs: facts.startedAt === undefined ? undefined : performance.now() - facts.startedAt,
    at,
  };
}
