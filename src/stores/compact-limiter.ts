import { RateLimiterRes } from 'rate-limiter-flexible';
import type { CounterState, CounterTable } from './counter-table.js';
import { StoreAbstract } from './rlf-store-abstract.js';
import { keepHiddenClass } from '../runtime/hidden-classes.js';

// The library answers every increment with one it drops: see keepHiddenClass. Its numbers
// come from the table's Float64Arrays: an example holding small integers would keep a map
// whose fields a real answer generalises (a new map, which would die again).
keepHiddenClass(new RateLimiterRes(0.5, 0.5, 0.5, false));

export interface CompactLimiterOptions {
  /** Family name (the table keeps families apart, so it prefixes nothing). */
  readonly keyPrefix: string;
  readonly points: number;
  readonly duration: number;
  /** Shared by every family of a store, so one cap bounds them all. */
  readonly table: CounterTable;
  /** Eviction weight of this family's counters (see CounterTable). */
  readonly weight: number;
}

/**
 * A rate-limiter-flexible limiter whose storage is a bounded CounterTable instead of
 * RateLimiterMemory's Map of records with a timer each. The library keeps its part (key
 * prefixes, points, penalty/reward/get/delete and their results); the table keeps the fixed
 * window from the first point, like RateLimiterRedis, and the memory bound.
 */
export class RateLimiterCompactMemory extends StoreAbstract {
  private readonly table: CounterTable;
  private readonly family: number;

  constructor(options: CompactLimiterOptions) {
    super({ keyPrefix: options.keyPrefix, points: options.points, duration: options.duration, storeClient: options.table });
    this.table = options.table;
    this.family = options.table.addFamily({ limit: options.points, weight: options.weight });
  }

  /**
   * The table keeps each family apart already, so keys need no prefix: building one per call
   * would cost a concatenation and a flattening on every lookup.
   */
  override getKey(key: string | number): string {
    return String(key);
  }

  override parseKey(rlKey: string): string {
    return rlKey;
  }

  /** Read straight from the table: what `get` answers, without its promises. */
  peek(key: string, now?: number): CounterState | undefined {
    return this.table.get(this.family, key, now);
  }

  /** `peek`, noting what it found for the next read (see `CounterTable.getAndNote`). */
  peekAndNote(key: string, now: number, notes: number[], at: number): CounterState | undefined {
    return this.table.getAndNote(this.family, key, now, notes, at);
  }

  /**
   * `penalty(key, points)` (or `reward(key, -points)`) without the promises: the same key, the
   * same window (the library's `duration`), the same table write `_upsert` makes.
   */
  upsertNow(key: string, points: number): CounterState {
    return this.table.upsert(this.family, this.getKey(key), points, this.duration * 1000);
  }

  /** `delete(key)` without the promises. */
  deleteNow(key: string): boolean {
    return this.table.delete(this.family, this.getKey(key));
  }

  // The four methods below are the store contract of RateLimiterStoreAbstract.

  _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<CounterState> {
    return Promise.resolve(this.table.upsert(this.family, rlKey, points, msDuration, forceExpire));
  }

  _get(rlKey: string): Promise<CounterState | null> {
    return Promise.resolve(this.table.get(this.family, rlKey) ?? null);
  }

  _delete(rlKey: string): Promise<boolean> {
    return Promise.resolve(this.table.delete(this.family, rlKey));
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, state: CounterState): RateLimiterRes {
    const { consumed, msBeforeNext } = state;
    return new RateLimiterRes(Math.max(this.points - consumed, 0), msBeforeNext, consumed, consumed === changedPoints);
  }
}
