import { Counter, Histogram, Registry } from 'prom-client';
import { appCallbackMs, measureAppTime } from './app-time.js';
import type { ChallengeFailure } from '../challenges/challenges.js';
import { defaults } from '../config/config.js';
import { custom, type Input, number, resolveShape, string } from '../config/schema.js';
import type { ChallengeEvent, WithdrawalsLockedEvent } from '../engine/events.js';
import type { Shield } from '../shield.js';
import type { Action, Decision, RouteKind } from '../engine/decision.js';

/** Options of `shieldMetrics`, declared once. */
export const metricsShape = {
  /** Registry to register on; default a new one (so two shields never collide). */
  registry: custom<Registry>('a prom-client Registry', (v) => v instanceof Registry),
  /** Metric name prefix. Default `account_shield_`. */
  prefix: string().refine((p) => (/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(p) ? undefined : { problem: `% is ${JSON.stringify(p)}, not a Prometheus name prefix.`, fix: 'Use letters, digits, _ and :, not starting with a digit.' })).default('account_shield_'),
  /**
   * Distinct `route` label values kept; decisions on further routes are counted as `other`.
   * Default 50. A route's label is its `name` option, else the request path.
   */
  maxRoutes: number({ integer: true, min: 1, max: 10_000 }).default(50),
};

export type MetricsOptions = Input<typeof metricsShape>;

export interface ShieldMetrics {
  readonly registry: Registry;
  /** Express handler serving the Prometheus text format. */
  handler(): (req: unknown, res: { setHeader(n: string, v: string): void; end(body: string): void }) => Promise<void>;
  /** Stop listening to the shield. */
  detach(): void;
}

// Every label value the shield can emit, so each series exists (at 0) before its first event
// and `rate()` or an absence alert works from the start. Records keyed by the union types make
// the compiler point here when a new value is added.
const ACTIONS = Object.keys({ allow: 1, challenge: 1, block: 1 } satisfies Record<Action, 1>) as Action[];
const OUTCOMES = Object.keys({ success: 1, failure: 1, blocked: 1, challenged: 1 } satisfies Record<NonNullable<Decision['outcome']>, 1>);
/** The route kinds whose decisions carry scored reasons. */
const SCORED_KINDS: readonly RouteKind[] = ['login', 'credential-change'];
const FAILURES = Object.keys({
  unknown: 1,
  expired: 1,
  'wrong-device': 1,
  'wrong-purpose': 1,
  'too-many-attempts': 1,
  'wrong-code': 1,
  replayed: 1,
} satisfies Record<ChallengeFailure, 1>);
/** The signals of the default engine; a signal added later gets its series on first use. */
const SIGNALS = [
  'leaked-address',
  'device.new',
  'device.known',
  'password.listed',
  'velocity.ip',
  'velocity.subnet',
  'velocity.site',
  'velocity.listedPasswords',
  'velocity.ipAccount',
  'velocity.accountsPerIp',
  'velocity.account',
  'wave',
  'password.weak',
  'password.breached',
  'credential.recent-change',
  'session.stale',
];
/** Label value for "nothing here" (Prometheus treats an empty value as an absent label). */
const NONE = 'none';
const OTHER_ROUTE = 'other';

/**
 * Prometheus metrics from the shield's events: decisions by route, kind, action and outcome,
 * the signals behind them, challenge outcomes, locks, store degradations, and two latencies —
 * the shield's own work per decision (the app's callbacks excluded) and the whole guard up to
 * its decision (callbacks included). Labels carry no identifiers.
 */
export function shieldMetrics(shield: Shield, options: MetricsOptions = {}): ShieldMetrics {
  const resolved = resolveShape(metricsShape, options, 'shieldMetrics() options');
  const registry = resolved.registry ?? new Registry();
  const p = resolved.prefix;
  const maxRoutes = resolved.maxRoutes;
  measureAppTime(shield);

  const decisions = new Counter({
    name: `${p}decisions_total`,
    help: 'Decisions by route, route kind, decided action, enforced action and outcome',
    labelNames: ['route', 'kind', 'action', 'enforced', 'outcome'] as const,
    registers: [registry],
  });
  const reasons = new Counter({
    name: `${p}decision_reasons_total`,
    help: 'Signals that contributed to decisions',
    labelNames: ['kind', 'signal'] as const,
    registers: [registry],
  });
  const challenges = new Counter({
    name: `${p}challenges_total`,
    help: 'Step-up challenges issued, passed and failed (failure: why, or none)',
    labelNames: ['purpose', 'outcome', 'failure'] as const,
    registers: [registry],
  });
  const locks = new Counter({
    name: `${p}withdrawal_locks_total`,
    help: 'Withdrawal locks applied (kind: the change that caused it) and lifted',
    labelNames: ['event', 'kind'] as const,
    registers: [registry],
  });
  const storeEvents = new Counter({
    name: `${p}store_events_total`,
    help: 'Store degradations and recoveries',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
  const ownLatency = new Histogram({
    name: `${p}decision_duration_seconds`,
    help: "The shield's own time per decision: from the guard's entry to its decision, the app's callbacks excluded",
    labelNames: ['route', 'kind'] as const,
    buckets,
    registers: [registry],
  });
  const guardLatency = new Histogram({
    name: `${p}guard_duration_seconds`,
    help: "From the guard's entry to its decision, the app's callbacks (authenticate, getUser, ...) included",
    labelNames: ['route', 'kind'] as const,
    buckets,
    registers: [registry],
  });

  const purposes = new Set<string>();
  const initPurpose = (purpose: string) => {
    if (purposes.has(purpose)) return;
    purposes.add(purpose);
    challenges.inc({ purpose, outcome: 'issued', failure: NONE }, 0);
    challenges.inc({ purpose, outcome: 'passed', failure: NONE }, 0);
    for (const failure of FAILURES) challenges.inc({ purpose, outcome: 'failed', failure }, 0);
  };
  const lockKinds = new Set<string>();
  const initLockKind = (kind: string) => {
    if (lockKinds.has(kind)) return;
    lockKinds.add(kind);
    locks.inc({ event: 'locked', kind }, 0);
  };
  const routes = new Map<string, string>();
  /** The route's label value, its series initialised on first sight; `other` past the cap. */
  const routeLabel = (route: string, kind: RouteKind): string => {
    const key = `${kind}\0${route}`;
    const known = routes.get(key);
    if (known !== undefined) return known;
    const label = routes.size < maxRoutes ? route || NONE : OTHER_ROUTE;
    routes.set(key, label);
    for (const action of ACTIONS) {
      for (const enforced of new Set<Action>([action, 'allow'])) {
        for (const outcome of OUTCOMES) decisions.inc({ route: label, kind, action, enforced, outcome }, 0);
      }
    }
    ownLatency.zero({ route: label, kind });
    guardLatency.zero({ route: label, kind });
    return label;
  };

  for (const kind of SCORED_KINDS) for (const signal of SIGNALS) reasons.inc({ kind, signal }, 0);
  initPurpose('login');
  for (const kind of Object.keys(defaults.locks.durations)) {
    initPurpose(kind);
    initLockKind(kind);
  }
  initLockKind('admin');
  locks.inc({ event: 'unlocked', kind: 'admin' }, 0);
  storeEvents.inc({ event: 'degraded' }, 0);
  storeEvents.inc({ event: 'recovered' }, 0);

  const onDecision = (d: Decision) => {
    const route = routeLabel(d.route, d.kind);
    decisions.inc({ route, kind: d.kind, action: d.action, enforced: d.enforced, outcome: d.outcome ?? NONE });
    for (const r of d.reasons) reasons.inc({ kind: d.kind, signal: r.signal || NONE });
    if (d.elapsedMs === undefined) return;
    guardLatency.observe({ route, kind: d.kind }, d.elapsedMs / 1000);
    // Read while the guard that published this decision is still on the stack.
    const appMs = appCallbackMs() ?? 0;
    ownLatency.observe({ route, kind: d.kind }, Math.max(0, d.elapsedMs - appMs) / 1000);
  };
  const onChallenge = (e: ChallengeEvent) => {
    initPurpose(e.purpose);
    challenges.inc({ purpose: e.purpose || NONE, outcome: e.outcome, failure: e.failure || NONE });
  };
  const onLocked = (e: WithdrawalsLockedEvent) => {
    initLockKind(e.cause.kind);
    locks.inc({ event: 'locked', kind: e.cause.kind || NONE });
  };
  const onUnlocked = () => locks.inc({ event: 'unlocked', kind: 'admin' });
  const onDegraded = () => storeEvents.inc({ event: 'degraded' });
  const onRecovered = () => storeEvents.inc({ event: 'recovered' });

  shield.on('decision', onDecision);
  shield.on('challenge', onChallenge);
  shield.on('withdrawals.locked', onLocked);
  shield.on('withdrawals.unlocked', onUnlocked);
  shield.on('store.degraded', onDegraded);
  shield.on('store.recovered', onRecovered);

  return {
    registry,
    handler: () => async (_req, res) => {
      res.setHeader('Content-Type', registry.contentType);
      res.end(await registry.metrics());
    },
    detach: () => {
      shield.off('decision', onDecision);
      shield.off('challenge', onChallenge);
      shield.off('withdrawals.locked', onLocked);
      shield.off('withdrawals.unlocked', onUnlocked);
      shield.off('store.degraded', onDegraded);
      shield.off('store.recovered', onRecovered);
    },
  };
}
