import type { ChallengeEvent, WithdrawalsLockedEvent, WithdrawalsUnlockedEvent } from '../engine/events.js';
import type { LockReason } from '../stores/store.js';
import type { Action, Decision } from '../engine/decision.js';

/**
 * What the operator console remembers, in this process's memory only. It follows the store's
 * privacy rule: every identifier is one the shield already keyed with HMAC (account, IP,
 * subnet, device, user), cut to its first characters; no email, IP or password is ever in it.
 * The one exception is the app's own user id of a withdrawal lock, which the lock events
 * carry so the app can notify the owner: it stays server-side, needed to call
 * `locks.unlock()`, and the page only ever sees the keyed id.
 */

/** Keyed ids are shown by their first characters: enough to tell rows apart on one screen. */
export const SHOWN_ID_LENGTH = 10;
/** Bounds what an attacker rotating identifiers can make the console hold per minute. */
const MAX_KEYS_PER_MINUTE = 5000;
const TOP = 8;
const MAX_TRACKED_LOCKS = 500;
const MAX_AUDIT = 50;
const MAX_DECISIONS_PER_ANSWER = 100;
const ACTIONS: readonly Action[] = ['allow', 'challenge', 'block'];

const short = (id: string | undefined) => (id === undefined ? undefined : id.slice(0, SHOWN_ID_LENGTH));

export interface ConsoleDecision {
  readonly seq: number;
  readonly at: number;
  readonly route: string;
  readonly kind: string;
  readonly change?: string;
  readonly action: Action;
  readonly enforced: Action;
  readonly monitor: boolean;
  readonly score: number;
  readonly outcome?: string;
  readonly degraded?: boolean;
  readonly reasons: readonly { signal: string; points: number; detail: string }[];
  readonly ids: { account?: string; ip: string; subnet: string; device?: string };
}

export interface Tally {
  attempts: number;
  failed: number;
  challenged: number;
  blocked: number;
}

interface Minute {
  readonly minute: number;
  readonly actions: Record<Action, number>;
  readonly reasons: Map<string, number>;
  readonly sources: Map<string, Tally>;
  readonly accounts: Map<string, Tally>;
  readonly challenges: { issued: number; passed: number; failed: number };
}

interface Second {
  sec: number;
  logins: number;
  failures: number;
  waveSignals: number;
}

interface TrackedLock {
  readonly userId: string;
  readonly id: string;
  until: number;
  reasons: readonly LockReason[];
}

export interface UnlockAudit {
  readonly id: string;
  readonly actor: string;
  readonly reason: string;
  readonly wasLockedUntil: number | null;
  readonly at: number;
}

export interface RecorderDeps {
  /** The shield's keyed id of an app user id (the one the lock store uses). */
  readonly keyUser: (userId: string) => string;
  readonly now: () => number;
  /** The shield's wave window, so "a wave is running" means what it means to the shield. */
  readonly waveWindowSec: number;
  readonly windowMinutes: number;
  readonly maxDecisions: number;
}

export class ConsoleRecorder {
  private seq = 0;
  private readonly decisions: ConsoleDecision[] = [];
  private readonly minutes: Minute[] = [];
  private readonly seconds: Second[] = [];
  private readonly locks = new Map<string, TrackedLock>();
  private readonly audit: UnlockAudit[] = [];
  readonly since: number;

  constructor(private readonly deps: RecorderDeps) {
    this.since = deps.now();
  }

  readonly onDecision = (d: Decision): void => {
    const entry: ConsoleDecision = {
      seq: ++this.seq,
      at: d.at,
      route: d.route,
      kind: d.kind,
      change: d.change,
      action: d.action,
      enforced: d.enforced,
      monitor: d.monitor,
      score: d.score,
      outcome: d.outcome,
      degraded: d.degraded,
      reasons: d.reasons.map((r) => ({ signal: r.signal, points: r.points, detail: r.detail })),
      ids: { account: short(d.ids.account), ip: short(d.ids.ip)!, subnet: short(d.ids.subnet)!, device: short(d.ids.device) },
    };
    this.decisions.push(entry);
    if (this.decisions.length > this.deps.maxDecisions) this.decisions.shift();

    const minute = this.minute(d.at);
    minute.actions[d.action]++;
    for (const r of d.reasons) minute.reasons.set(r.signal, (minute.reasons.get(r.signal) ?? 0) + 1);
    tally(minute.sources, entry.ids.subnet, d);
    if (entry.ids.account !== undefined) tally(minute.accounts, entry.ids.account, d);

    const second = this.second(d.at);
    if (d.kind === 'login') {
      second.logins++;
      if (d.outcome === 'failure' || d.outcome === 'blocked') second.failures++;
    }
    if (d.reasons.some((r) => r.signal === 'wave')) second.waveSignals++;
  };

  readonly onChallenge = (e: ChallengeEvent): void => {
    this.minute(e.at).challenges[e.outcome]++;
  };

  readonly onLocked = (e: WithdrawalsLockedEvent): void => {
    const id = this.deps.keyUser(e.userId);
    const known = this.locks.get(id);
    if (known) {
      known.until = e.until;
      known.reasons = e.reasons;
      return;
    }
    if (this.locks.size >= MAX_TRACKED_LOCKS) this.dropOldestLock();
    this.locks.set(id, { userId: e.userId, id, until: e.until, reasons: e.reasons });
  };

  readonly onUnlocked = (e: WithdrawalsUnlockedEvent): void => {
    const id = this.deps.keyUser(e.userId);
    this.locks.delete(id);
    this.audit.unshift({ id: short(id)!, actor: e.actor, reason: e.reason, wasLockedUntil: e.wasLockedUntil, at: e.at });
    if (this.audit.length > MAX_AUDIT) this.audit.pop();
  };

  /** The app user id behind a lock's keyed id, for the unlock call; never sent to the page. */
  lockOwner(id: string): string | undefined {
    return this.locks.get(id)?.userId;
  }

  /** Locks this process saw, with their owners, so the router can re-read them from the store. */
  trackedLocks(): readonly { userId: string; id: string }[] {
    return [...this.locks.values()];
  }

  /** A re-read from the store: the lock may have been lifted or extended elsewhere. */
  updateLock(id: string, status: { until: number | null; reasons: readonly LockReason[] }): void {
    const lock = this.locks.get(id);
    if (!lock) return;
    if (status.until === null) {
      this.locks.delete(id);
      return;
    }
    lock.until = status.until;
    lock.reasons = status.reasons;
  }

  snapshot(after: number) {
    const now = this.deps.now();
    this.prune(now);
    const actions: Record<Action, number> = { allow: 0, challenge: 0, block: 0 };
    const reasons = new Map<string, number>();
    const sources = new Map<string, Tally>();
    const accounts = new Map<string, Tally>();
    const challenges = { issued: 0, passed: 0, failed: 0 };
    for (const m of this.minutes) {
      for (const a of ACTIONS) actions[a] += m.actions[a];
      for (const [signal, n] of m.reasons) reasons.set(signal, (reasons.get(signal) ?? 0) + n);
      merge(sources, m.sources);
      merge(accounts, m.accounts);
      challenges.issued += m.challenges.issued;
      challenges.passed += m.challenges.passed;
      challenges.failed += m.challenges.failed;
    }
    const wave = this.seconds.reduce((w, s) => ({ logins: w.logins + s.logins, failures: w.failures + s.failures, waveSignals: w.waveSignals + s.waveSignals }), {
      logins: 0,
      failures: 0,
      waveSignals: 0,
    });
    const firstMinute = Math.floor(now / 60_000) - this.deps.windowMinutes + 1;
    return {
      now,
      since: this.since,
      windowMinutes: this.deps.windowMinutes,
      lastSeq: this.seq,
      decisions: this.decisions.filter((d) => d.seq > after).slice(-MAX_DECISIONS_PER_ANSWER).reverse(),
      actions,
      perMinute: Array.from({ length: this.deps.windowMinutes }, (_, i) => {
        const m = this.minutes.find((x) => x.minute === firstMinute + i);
        return { at: (firstMinute + i) * 60_000, allow: m?.actions.allow ?? 0, challenge: m?.actions.challenge ?? 0, block: m?.actions.block ?? 0 };
      }),
      reasons: [...reasons].map(([signal, count]) => ({ signal, count })).sort((a, b) => b.count - a.count),
      challenges,
      wave: { ...wave, active: wave.waveSignals > 0, windowSec: this.deps.waveWindowSec },
      topSources: top(sources),
      topAccounts: top(accounts),
      locks: [...this.locks.values()]
        .filter((l) => l.until > now)
        .sort((a, b) => a.until - b.until)
        .map((l) => ({
          id: l.id,
          shown: short(l.id)!,
          until: l.until,
          reasons: l.reasons.filter((r) => r.until > now).map((r) => ({ kind: r.kind, detail: r.detail, at: r.at, until: r.until, actor: r.actor })),
        })),
      unlocks: [...this.audit],
    };
  }

  private minute(at: number): Minute {
    const minute = Math.floor(at / 60_000);
    const last = this.minutes.at(-1);
    if (last && last.minute === minute) return last;
    // Events arrive in time order; one from a clock step back counts in the latest minute.
    if (last && last.minute > minute) return last;
    const fresh: Minute = {
      minute,
      actions: { allow: 0, challenge: 0, block: 0 },
      reasons: new Map(),
      sources: new Map(),
      accounts: new Map(),
      challenges: { issued: 0, passed: 0, failed: 0 },
    };
    this.minutes.push(fresh);
    this.prune(at);
    return fresh;
  }

  private second(at: number): Second {
    const sec = Math.floor(at / 1000);
    const last = this.seconds.at(-1);
    if (last && last.sec >= sec) return last;
    const fresh = { sec, logins: 0, failures: 0, waveSignals: 0 };
    this.seconds.push(fresh);
    return fresh;
  }

  private prune(now: number): void {
    const oldestMinute = Math.floor(now / 60_000) - this.deps.windowMinutes + 1;
    while (this.minutes.length > 0 && this.minutes[0]!.minute < oldestMinute) this.minutes.shift();
    const oldestSecond = Math.floor(now / 1000) - this.deps.waveWindowSec + 1;
    while (this.seconds.length > 0 && this.seconds[0]!.sec < oldestSecond) this.seconds.shift();
    for (const [id, lock] of this.locks) if (lock.until <= now) this.locks.delete(id);
  }

  private dropOldestLock(): void {
    const soonest = [...this.locks.values()].sort((a, b) => a.until - b.until)[0];
    if (soonest) this.locks.delete(soonest.id);
  }
}

function tally(map: Map<string, Tally>, key: string, d: Decision): void {
  let t = map.get(key);
  if (!t) {
    if (map.size >= MAX_KEYS_PER_MINUTE) return;
    t = { attempts: 0, failed: 0, challenged: 0, blocked: 0 };
    map.set(key, t);
  }
  t.attempts++;
  if (d.action === 'block') t.blocked++;
  else if (d.action === 'challenge') t.challenged++;
  if (d.outcome === 'failure') t.failed++;
}

function merge(into: Map<string, Tally>, from: ReadonlyMap<string, Tally>): void {
  for (const [key, t] of from) {
    const sum = into.get(key) ?? { attempts: 0, failed: 0, challenged: 0, blocked: 0 };
    sum.attempts += t.attempts;
    sum.failed += t.failed;
    sum.challenged += t.challenged;
    sum.blocked += t.blocked;
    into.set(key, sum);
  }
}

/** The busiest ids, ranked by what went against them (refused, stepped up, failed), then volume. */
function top(map: ReadonlyMap<string, Tally>) {
  const hostile = (t: Tally) => t.blocked + t.challenged + t.failed;
  return [...map]
    .map(([id, t]) => ({ id, ...t }))
    .sort((a, b) => hostile(b) - hostile(a) || b.attempts - a.attempts)
    .slice(0, TOP);
}

export type ConsoleSnapshot = ReturnType<ConsoleRecorder['snapshot']>;
