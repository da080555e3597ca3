import type { RateLimiterRes } from 'rate-limiter-flexible';
import { family } from '../signals/velocity.js';
import { checkCounterSpec, checkLockArguments, checkPoints, checkTtl } from './checks.js';
import { RateLimiterCompactMemory } from './compact-limiter.js';
import { CounterTable } from './counter-table.js';
import { blankNotes, COUNTER_NOTE, VALUE_NOTE } from './read-notes.js';
import { StoreConfigError } from './errors.js';
import type {
  CounterIncrement,
  CounterRef,
  CounterSpec,
  CounterValue,
  LockReason,
  LockRecord,
  ReadRequest,
  ReadResult,
  Store,
  SyncStore,
} from './store.js';
import { ValueTable } from './value-table.js';

export interface MemoryStoreOptions {
  /**
   * Hard cap on velocity counters, all families together. When full, a new counter replaces
   * the least informative of a sample (see CounterTable). ~150 bytes each: the default
   * 1,000,000 is ~150 MB at most.
   */
  maxCounters?: number;
  /**
   * Hard cap on plain keys (challenges, devices, cached flags). When full, challenges go
   * first, oldest first, then other keys oldest first. Withdrawal holds and locks are never
   * evicted. Default 200,000 (~300 bytes each with a challenge record: ~60 MB at most).
   */
  maxKeys?: number;
  /** How often a slice of expired entries is swept, in ms. Default 1 s. */
  sweepIntervalMs?: number;
  /** Entries looked at per sweep, per table. Default 20,000. */
  sweepBudget?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

const NO_COUNTER: CounterValue = { consumed: 0, msBeforeNext: 0 };

/**
 * Families that count many sources together — a subnet, an IPv6 /48, an account, the global
 * wave evidence, an account's second-factor codes. They are what still blocks a distributed
 * attack, so under pressure they outlive per-source counters: they weigh as much as a per-IP
 * counter at its limit once they reach a quarter of theirs.
 */
const AGGREGATE_FAMILIES: ReadonlySet<string> = new Set([
  family.subnet,
  family.site,
  family.account,
  family.evidence,
  family.secondFactor,
]);
const AGGREGATE_WEIGHT = 4;

/** A withdrawal hold lost would be a lock lost: the plain keys that are never evicted. */
const isPinned = (key: string) => key.startsWith('hold:');
/** What any failed login can mint: evicted before anything else. */
const isVolatile = (key: string) => key.startsWith('chal:');

/**
 * The embedded default: one process, no dependencies, bounded memory. Velocity goes through
 * rate-limiter-flexible (one limiter per counter family) backed by one shared CounterTable, so
 * its window semantics are those of the Redis store and one cap bounds every family.
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  private readonly limiters = new Map<string, RateLimiterCompactMemory>();
  private readonly counters: CounterTable;
  private readonly values: ValueTable;
  private readonly locks = new Map<string, LockRecord>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    const now = options.now ?? Date.now;
    this.now = now;
    const maxCounters = positiveInteger('maxCounters', options.maxCounters ?? 1_000_000);
    const maxKeys = positiveInteger('maxKeys', options.maxKeys ?? 200_000);
    const budget = positiveInteger('sweepBudget', options.sweepBudget ?? 20_000);
    this.counters = new CounterTable({ maxCounters, now });
    this.values = new ValueTable({ maxKeys, now, isPinned, isVolatile });
    this.sweeper = setInterval(() => this.sweep(budget, now()), positiveInteger('sweepIntervalMs', options.sweepIntervalMs ?? 1000));
    this.sweeper.unref();
  }

  /** Number of live plain keys; exposed so tests can show nothing grows without bound. */
  get size(): number {
    return this.values.size;
  }

  /** Number of live velocity counters (at most `maxCounters`). */
  get counterCount(): number {
    return this.counters.size;
  }

  /** Entries evicted to stay under the caps since the store was created. */
  get evictions(): { counters: number; keys: number } {
    return { counters: this.counters.evictions, keys: this.values.evictions };
  }

  /**
   * Every decision reads ~9 counters and ~6 keys: a synchronous lookup each, in the tables the
   * limiters write to, against one clock reading. Going through each limiter's `get` would cost
   * three promises per counter and add nothing a lookup does not already answer. A request
   * read again and again (a returning device's) carries hints: there the tables note what
   * each read found, and answer from the note while nothing changed it (see read-notes.ts).
   */
  private readNow(request: ReadRequest): ReadResult {
    const now = this.now();
    const wanted = request.counters;
    const keys = request.keys;
    const hints = request.hints;
    let notes: number[] | undefined;
    let strings: (string | undefined)[] | undefined;
    if (hints !== undefined) {
      if (hints.owner !== this || hints.numbers === undefined || hints.strings === undefined) {
        const blank = blankNotes(wanted.length, keys.length);
        hints.owner = this;
        hints.numbers = blank.numbers;
        hints.strings = blank.strings;
      }
      notes = hints.numbers;
      strings = hints.strings;
    }
    const counters: CounterValue[] = [];
    // Indexed loops: a returning user's request is frozen and shared, and iterating a frozen
    // array allocates an iterator result per element where an index does not. A note still
    // holding is the answer before the request's counter or key is even looked at: in a
    // server's heap each object a read touches is a cache miss or more.
    for (let i = 0; i < wanted.length; i++) {
      const noted = notes === undefined ? null : this.counters.noted(notes, i * COUNTER_NOTE, now);
      if (noted !== null) {
        counters.push(noted ?? NO_COUNTER);
        continue;
      }
      const { spec, key } = wanted[i] as CounterRef;
      const limiter = this.limiter(spec);
      const state = notes === undefined ? limiter.peek(key, now) : limiter.peekAndNote(key, now, notes, i * COUNTER_NOTE);
      counters.push(state ?? NO_COUNTER);
    }
    const values: (string | undefined)[] = [];
    const valuesAt = wanted.length * COUNTER_NOTE;
    for (let j = 0; j < keys.length; j++) {
      if (notes === undefined || strings === undefined) {
        values.push(this.values.get(keys[j] as string, now));
        continue;
      }
      const noted = this.values.noted(notes, valuesAt + j * VALUE_NOTE, strings, j, now);
      values.push(noted !== null ? noted : this.values.getAndNote(keys[j] as string, now, notes, valuesAt + j * VALUE_NOTE, strings, j));
    }
    return { counters, values };
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    return this.readNow(request);
  }

  /**
   * The decision path without promises. Increments go to the same limiters as `add`, through
   * their synchronous twin of penalty and reward (same key, window and table), so nothing
   * here can count differently from `add`; what it skips is only the library's promise
   * plumbing, eight promises per increment, which nothing on this path waits for.
   */
  readonly sync: SyncStore = {
    read: (request) => this.readNow(request),
    add: (increments) => {
      this.checkIncrements(increments);
      return increments.map(({ spec, key, points }) => toValue(this.limiter(spec).upsertNow(key, points)));
    },
    reset: (counters) => {
      for (const { spec, key } of counters) this.limiter(spec).deleteNow(key);
    },
    set: (key, value, ttlMs) => this.values.set(key, value, checkTtl(ttlMs)),
  };

  /**
   * Each increment goes through rate-limiter-flexible (penalty, or reward to take points back),
   * which writes to the shared table. The library answers with a promise per increment; they
   * are converted once all have settled rather than through one more promise each.
   */
  async add(increments: readonly CounterIncrement[]): Promise<CounterValue[]> {
    this.checkIncrements(increments);
    const pending: Promise<RateLimiterRes>[] = [];
    for (const { spec, key, points } of increments) {
      const limiter = this.limiter(spec);
      // Taking points back never creates a counter nor drives one below zero (the table's rule).
      pending.push(points < 0 ? limiter.reward(key, -points) : limiter.penalty(key, points));
    }
    return (await Promise.all(pending)).map(toCounterValue);
  }

  async reset(counters: readonly CounterRef[]): Promise<void> {
    await Promise.all(counters.map(({ spec, key }) => this.limiter(spec).delete(key)));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, value, checkTtl(ttlMs));
  }

  async take(key: string): Promise<string | undefined> {
    const value = this.values.get(key);
    this.values.delete(key);
    return value;
  }

  async delete(key: string): Promise<boolean> {
    return this.values.delete(key);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return this.values.increment(key, checkTtl(ttlMs));
  }

  async getLock(key: string, now: number): Promise<LockRecord | undefined> {
    return this.liveLock(key, now);
  }

  private liveLock(key: string, now: number): LockRecord | undefined {
    const lock = this.locks.get(key);
    if (!lock) return undefined;
    if (lock.until <= now) {
      this.locks.delete(key);
      return undefined;
    }
    return lock;
  }

  async extendLock(key: string, reason: LockReason, now: number, maxReasons: number): Promise<LockRecord> {
    checkLockArguments(reason, now, maxReasons);
    // No await between reading and writing: concurrent extensions must not overwrite each other.
    const current = this.liveLock(key, now);
    const merged: LockRecord = {
      until: Math.max(current?.until ?? 0, reason.until),
      reasons: [...(current?.reasons ?? []), reason].slice(-maxReasons),
    };
    this.locks.set(key, merged);
    return merged;
  }

  async clearLock(key: string, now: number): Promise<LockRecord | undefined> {
    const current = this.liveLock(key, now);
    this.locks.delete(key);
    return current;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** Checked before any is applied: a bad increment must not leave the others half done. */
  private checkIncrements(increments: readonly CounterIncrement[]): void {
    for (const { spec, points } of increments) {
      checkPoints(points);
      this.limiter(spec);
    }
  }

  private limiter(spec: CounterSpec): RateLimiterCompactMemory {
    let limiter = this.limiters.get(spec.name);
    if (!limiter) {
      checkCounterSpec(spec, false);
      limiter = new RateLimiterCompactMemory({
        keyPrefix: spec.name,
        points: spec.points,
        duration: spec.durationSec,
        table: this.counters,
        weight: AGGREGATE_FAMILIES.has(spec.name) ? AGGREGATE_WEIGHT : 1,
      });
      this.limiters.set(spec.name, limiter);
    }
    return limiter;
  }

  private sweep(budget: number, now: number): void {
    this.counters.sweep(budget);
    this.values.sweep(budget);
    for (const [key, lock] of this.locks) if (lock.until <= now) this.locks.delete(key);
  }
}

function toCounterValue(res: RateLimiterRes): CounterValue {
  return toValue({ consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext });
}

function toValue(state: CounterValue): CounterValue {
  if (state.consumed <= 0 && state.msBeforeNext <= 0) return NO_COUNTER;
  return { consumed: state.consumed, msBeforeNext: Math.max(0, state.msBeforeNext) };
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new StoreConfigError(
    'MEMORY_OPTION_INVALID',
    `MemoryStore option ${name} must be a positive integer, got ${String(value)}`,
    `pass a whole number above 0 for ${name}, or leave it out for the default`,
  );
}
