import { RateLimiterMemory } from 'rate-limiter-flexible';
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
} from './store.js';

export interface MemoryStoreOptions {
  /**
   * Upper bound on plain keys (challenges, devices, cached flags). When reached the oldest
   * entries are evicted first, so an attacker minting challenges cannot exhaust the heap.
   * Locks are never evicted. Default 1,000,000.
   */
  maxKeys?: number;
  /** How often expired keys are swept, in ms. Default 30 s. */
  sweepIntervalMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

const NO_COUNTER: CounterValue = { consumed: 0, msBeforeNext: 0 };

/**
 * The embedded default: one process, no dependencies. Velocity goes through
 * rate-limiter-flexible's memory limiter (one per counter family) so its window semantics are
 * exactly those of the Redis store.
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  private readonly limiters = new Map<string, RateLimiterMemory>();
  private readonly entries = new Map<string, Entry>();
  private readonly locks = new Map<string, LockRecord>();
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.sweeper.unref();
  }

  /** Number of live plain keys; exposed so tests can show nothing grows without bound. */
  get size(): number {
    return this.entries.size;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const counters = await Promise.all(request.counters.map((ref) => this.readCounter(ref)));
    const values = request.keys.map((key) => this.getLive(key)?.value);
    return { counters, values };
  }

  async add(increments: readonly CounterIncrement[]): Promise<CounterValue[]> {
    return Promise.all(
      increments.map(async ({ spec, key, points }) => {
        const limiter = this.limiter(spec);
        if (points < 0) {
          // Taking points back never creates a counter nor drives one below zero.
          const current = await limiter.get(key);
          if (!current || current.consumedPoints <= 0) return NO_COUNTER;
          const res = await limiter.reward(key, Math.min(-points, current.consumedPoints));
          return { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
        }
        const res = await limiter.penalty(key, points);
        return { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
      }),
    );
  }

  async reset(counters: readonly CounterRef[]): Promise<void> {
    await Promise.all(counters.map(({ spec, key }) => this.limiter(spec).delete(key)));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    this.entries.delete(key); // re-insert so eviction order follows the latest write
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    this.evictIfFull();
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.getLive(key);
    this.entries.delete(key);
    return entry?.value;
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.getLive(key) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    assertTtl(ttlMs);
    const entry = this.getLive(key);
    if (entry) {
      const next = Number(entry.value) + 1;
      entry.value = String(next);
      return next;
    }
    this.entries.set(key, { value: '1', expiresAt: this.now() + ttlMs });
    this.evictIfFull();
    return 1;
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

  private limiter(spec: CounterSpec): RateLimiterMemory {
    let limiter = this.limiters.get(spec.name);
    if (!limiter) {
      limiter = new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSec });
      this.limiters.set(spec.name, limiter);
    }
    return limiter;
  }

  private async readCounter({ spec, key }: CounterRef): Promise<CounterValue> {
    const res = await this.limiter(spec).get(key);
    if (!res) return NO_COUNTER;
    return { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
  }

  private getLive(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private evictIfFull(): void {
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      this.entries.delete(oldest.value);
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const [key, lock] of this.locks) if (lock.until <= now) this.locks.delete(key);
  }
}

function assertTtl(ttlMs: number): void {
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
}
