import { StoreConfigError } from './errors.js';
import { StripeVersions, stripeOf } from './read-notes.js';

/**
 * A bounded, timer-free table of fixed-window counters for the embedded store.
 *
 * Each counter is one Map entry (key → slot) plus one slot in parallel typed arrays, ~120–160
 * bytes in all, against ~630 bytes and a live timer per key for rate-limiter-flexible's own
 * memory storage. Expiry is checked when a counter is touched and by an incremental sweep;
 * nothing is scheduled per key.
 *
 * When the table is full, a new counter takes the slot of the least informative of a random
 * sample: expired first, then the lowest `weight × min(consumed / limit, 1)`, then the nearest
 * expiry. A one-off attempt from a fresh source scores 1/limit and is cheap to forget; a
 * source at its limit scores 1 and is only evicted once nearly the whole table is at its limit
 * too, so flooding fresh keys cannot wash an attacker's own counters away.
 */

/** A family of counters sharing a limit; its weight makes aggregate counters outlive per-source ones. */
export interface CounterFamily {
  readonly limit: number;
  readonly weight: number;
}

/** What a counter reads as after an operation, copied out so later evictions cannot change it. */
export interface CounterState {
  readonly consumed: number;
  /** Milliseconds until the window ends; 0 when the counter does not exist. */
  readonly msBeforeNext: number;
}

export interface CounterTableOptions {
  /** Hard cap on live counters. */
  readonly maxCounters: number;
  readonly now: () => number;
  /** Slots compared per eviction (default 16): more is closer to the exact minimum, and slower. */
  readonly sample?: number;
}

const MISSING: CounterState = { consumed: 0, msBeforeNext: 0 };
const MAX_FAMILIES = 255;
const INITIAL_CAPACITY = 1024;
/** Slots a full table looks at for an expired one before it evicts a live counter. */
const RECLAIM_BUDGET = 64;

export class CounterTable {
  /** One index per family, so keys are looked up as given: no prefix to concatenate per call. */
  private readonly slotOf: Map<string, number>[] = [];
  private readonly keys: string[] = [];
  private consumed: Float64Array;
  private expiresAt: Float64Array;
  private familyOf: Uint8Array;
  /**
   * Each counter's stripe (see read-notes.ts), worked out once from the table's own flat copy
   * of its key: the keys callers pass are often concatenations, and reading characters of one
   * flattens it — a copy per write on every attempt.
   */
  private stripeOfSlot: Uint16Array;
  private readonly families: CounterFamily[] = [];
  private readonly maxCounters: number;
  private readonly sample: number;
  private sweepCursor = 0;
  /** Bumped on every change to a counter (see read-notes.ts). */
  private readonly versions = new StripeVersions();
  /** Counters evicted to make room since the table was created (for metrics and tests). */
  evictions = 0;

  constructor(private readonly options: CounterTableOptions) {
    this.maxCounters = options.maxCounters;
    this.sample = options.sample ?? 16;
    const capacity = Math.min(INITIAL_CAPACITY, this.maxCounters);
    this.consumed = new Float64Array(capacity);
    this.expiresAt = new Float64Array(capacity);
    this.familyOf = new Uint8Array(capacity);
    this.stripeOfSlot = new Uint16Array(capacity);
  }

  /** Live and not yet swept counters. */
  get size(): number {
    return this.keys.length;
  }

  /** Register a family; the returned id tags its counters. */
  addFamily(family: CounterFamily): number {
    if (this.families.length >= MAX_FAMILIES) {
      throw new StoreConfigError(
        'COUNTER_SPEC_INVALID',
        `the memory store keeps at most ${MAX_FAMILIES} counter families`,
        'reuse family names instead of making one per key or per request',
      );
    }
    this.families.push(family);
    this.slotOf.push(new Map());
    return this.families.length - 1;
  }

  /** `now`: a clock reading the caller already took (a store reads many counters at one instant). */
  get(family: number, key: string, now = this.options.now()): CounterState | undefined {
    const slot = this.liveSlot(family, key, now);
    return slot < 0 ? undefined : { consumed: this.consumed[slot] as number, msBeforeNext: (this.expiresAt[slot] as number) - now };
  }

  /**
   * What a note (`notes` from `at`) says of its counter while it still holds: its state, or
   * undefined when it noted none; null when the note is stale or its counter expired since
   * (then only a lookup can tell). It needs neither the family nor the key: the note belongs
   * to one counter, so a read answered from notes touches nothing else of the request.
   */
  noted(notes: number[], at: number, now: number): CounterState | undefined | null {
    if (notes[at + 1] !== this.versions.of(notes[at] as number)) return null;
    const consumed = notes[at + 2] as number;
    const expiresAt = notes[at + 3] as number;
    if (consumed < 0) return undefined;
    if (expiresAt > now) return { consumed, msBeforeNext: expiresAt - now };
    // Expired: looked up, so the table drops it as any read would.
    return null;
  }

  /**
   * `get`, noting what it found in `notes` from `at` (read-notes.ts's layout, updated in place)
   * for `noted` to answer the next read of this (family, key) with. The caller asks `noted`
   * first: this is the lookup for a note that no longer holds.
   */
  getAndNote(family: number, key: string, now: number, notes: number[], at: number): CounterState | undefined {
    const slot = this.liveSlot(family, key, now);
    // After the lookup, which may have removed an expired counter (a change of its own).
    const stripe = slot < 0 ? stripeOf(key, family) : (this.stripeOfSlot[slot] as number);
    notes[at] = stripe;
    notes[at + 1] = this.versions.of(stripe);
    if (slot < 0) {
      notes[at + 2] = -1;
      return undefined;
    }
    const consumed = this.consumed[slot] as number;
    const expiresAt = this.expiresAt[slot] as number;
    notes[at + 2] = consumed;
    notes[at + 3] = expiresAt;
    return { consumed, msBeforeNext: expiresAt - now };
  }

  /**
   * Add `points` to the counter, opening a window of `durationMs` when there is none (or
   * always, with `forceExpire`). Negative points never create a counter nor go below zero:
   * taking back what was never counted must not mint state.
   */
  upsert(family: number, key: string, points: number, durationMs: number, forceExpire = false): CounterState {
    const now = this.options.now();
    let slot = this.liveSlot(family, key, now);
    if (slot >= 0 && !forceExpire) {
      this.versions.bump(this.stripeOfSlot[slot] as number);
      const next = Math.max(0, (this.consumed[slot] as number) + points);
      this.consumed[slot] = next;
      return { consumed: next, msBeforeNext: (this.expiresAt[slot] as number) - now };
    }
    if (points < 0 && slot < 0) return MISSING;
    if (slot < 0) slot = this.insert(family, key, now);
    this.versions.bump(this.stripeOfSlot[slot] as number);
    const consumed = Math.max(0, points);
    this.consumed[slot] = consumed;
    this.expiresAt[slot] = now + durationMs;
    return { consumed, msBeforeNext: durationMs };
  }

  delete(family: number, key: string): boolean {
    const slot = this.liveSlot(family, key, this.options.now());
    if (slot < 0) return false;
    this.removeSlot(slot);
    return true;
  }

  /**
   * Look at up to `budget` slots, resuming where the last sweep stopped, and drop the expired
   * ones (all of them, or only the first with `stopAtFirst`). Returns how many were dropped.
   */
  sweep(budget: number, stopAtFirst = false): number {
    const now = this.options.now();
    let dropped = 0;
    for (let seen = 0; seen < budget && this.keys.length > 0; seen++) {
      if (this.sweepCursor >= this.keys.length) this.sweepCursor = 0;
      // Removing moves the last slot into this one, so the cursor looks at it next.
      if ((this.expiresAt[this.sweepCursor] as number) > now) {
        this.sweepCursor++;
        continue;
      }
      this.removeSlot(this.sweepCursor);
      dropped++;
      if (stopAtFirst) break;
    }
    return dropped;
  }

  private liveSlot(family: number, key: string, now: number): number {
    const slot = (this.slotOf[family] as Map<string, number>).get(key);
    if (slot === undefined) return -1;
    if ((this.expiresAt[slot] as number) > now) return slot;
    this.removeSlot(slot);
    return -1;
  }

  private insert(family: number, key: string, now: number): number {
    // Full: reuse an expired slot if the sweep finds one nearby, else evict from a sample.
    if (this.keys.length >= this.maxCounters && this.sweep(RECLAIM_BUDGET, true) === 0) {
      this.removeSlot(this.leastInformative(now));
    }
    const slot = this.keys.length;
    if (slot >= this.consumed.length) this.grow();
    // A key built by concatenation or slicing holds on to its parts; a flat copy costs half.
    const own = flatCopy(key);
    this.keys.push(own);
    this.familyOf[slot] = family;
    this.stripeOfSlot[slot] = stripeOf(own, family);
    (this.slotOf[family] as Map<string, number>).set(own, slot);
    return slot;
  }

  private leastInformative(now: number): number {
    const size = this.keys.length;
    let victim = -1;
    let victimScore = Infinity;
    let victimExpiry = Infinity;
    for (let i = 0; i < this.sample; i++) {
      const slot = Math.floor(Math.random() * size);
      const expiry = this.expiresAt[slot] as number;
      if (expiry <= now) return slot;
      const family = this.families[this.familyOf[slot] as number] as CounterFamily;
      const ratio = family.limit > 0 ? Math.min((this.consumed[slot] as number) / family.limit, 1) : 1;
      const score = family.weight * ratio;
      if (score < victimScore || (score === victimScore && expiry < victimExpiry)) {
        victim = slot;
        victimScore = score;
        victimExpiry = expiry;
      }
    }
    this.evictions++;
    return victim;
  }

  /** Keep slots dense: the last one moves into the hole, so sampling needs no free list. */
  private removeSlot(slot: number): void {
    const last = this.keys.length - 1;
    const key = this.keys[slot] as string;
    this.versions.bump(this.stripeOfSlot[slot] as number);
    this.indexOf(slot).delete(key);
    const moved = this.keys.pop() as string;
    if (slot !== last) {
      this.keys[slot] = moved;
      this.consumed[slot] = this.consumed[last] as number;
      this.expiresAt[slot] = this.expiresAt[last] as number;
      this.familyOf[slot] = this.familyOf[last] as number;
      this.stripeOfSlot[slot] = this.stripeOfSlot[last] as number;
      this.indexOf(slot).set(moved, slot);
    }
  }

  private indexOf(slot: number): Map<string, number> {
    return this.slotOf[this.familyOf[slot] as number] as Map<string, number>;
  }

  private grow(): void {
    const capacity = Math.min(this.consumed.length * 2, this.maxCounters);
    const grown = <T extends Float64Array | Uint8Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.consumed = grown(this.consumed, (n) => new Float64Array(n));
    this.expiresAt = grown(this.expiresAt, (n) => new Float64Array(n));
    this.familyOf = grown(this.familyOf, (n) => new Uint8Array(n));
    this.stripeOfSlot = grown(this.stripeOfSlot, (n) => new Uint16Array(n));
  }
}

/**
 * An unshared, flat copy of a string. JSON round-tripping is exact for any string (lone
 * surrogates included) and runs once per new key, never on lookups.
 */
export function flatCopy(value: string): string {
  return JSON.parse(JSON.stringify(value)) as string;
}
