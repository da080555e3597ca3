import { Counter, Histogram, Registry } from 'prom-client';
import type { ChallengeEvent, WithdrawalsLockedEvent } from './events.js';
import type { Shield } from './shield.js';
import type { Decision } from './types.js';

export interface MetricsOptions {
  /** Registry to register on; default a new one (so two shields never collide). */
  registry?: Registry;
  /** Metric name prefix. Default `account_shield_`. */
  prefix?: string;
}

export interface ShieldMetrics {
  readonly registry: Registry;
  /** Express handler serving the Prometheus text format. */
  handler(): (req: unknown, res: { setHeader(n: string, v: string): void; end(body: string): void }) => Promise<void>;
  /** Stop listening to the shield. */
  detach(): void;
}

/**
 * Prometheus metrics from the shield's events: decisions by route, kind, action and reason,
 * challenge outcomes, locks, store degradations, and decision latency (each decision carries
 * the time its guard spent before deciding). Labels carry no identifiers.
 */
export function shieldMetrics(shield: Shield, options: MetricsOptions = {}): ShieldMetrics {
  const registry = options.registry ?? new Registry();
  const p = options.prefix ?? 'account_shield_';
  const decisions = new Counter({
    name: `${p}decisions_total`,
    help: 'Decisions by route kind, decided action, enforced action and outcome',
    labelNames: ['kind', 'action', 'enforced', 'outcome'] as const,
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
    help: 'Step-up challenges issued, passed and failed',
    labelNames: ['purpose', 'outcome', 'failure'] as const,
    registers: [registry],
  });
  const locks = new Counter({
    name: `${p}withdrawal_locks_total`,
    help: 'Withdrawal locks applied and lifted',
    labelNames: ['event', 'kind'] as const,
    registers: [registry],
  });
  const storeEvents = new Counter({
    name: `${p}store_events_total`,
    help: 'Store degradations and recoveries',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${p}decision_duration_seconds`,
    help: 'Time from request arrival at the guard to its decision',
    labelNames: ['kind'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });

  const onDecision = (d: Decision) => {
    decisions.inc({ kind: d.kind, action: d.action, enforced: d.enforced, outcome: d.outcome ?? 'none' });
    for (const r of d.reasons) reasons.inc({ kind: d.kind, signal: r.signal });
    if (d.elapsedMs !== undefined) latency.observe({ kind: d.kind }, d.elapsedMs / 1000);
  };
  const onChallenge = (e: ChallengeEvent) =>
    challenges.inc({ purpose: e.purpose, outcome: e.outcome, failure: e.failure ?? '' });
  const onLocked = (e: WithdrawalsLockedEvent) => locks.inc({ event: 'locked', kind: e.cause.kind });
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
