/**
 * The one interface every state backend implements (memory, Redis, Redis Cluster).
 *
 * It is shaped around what a decision needs rather than around Redis commands, so that a
 * remote store can answer the hot path in one round trip: `read` fetches every counter and
 * value a decision looks at in a single call (one pipeline / script for Redis), and `add`
 * records the outcome in a second.
 *
 * Keys handed to a store are already HMAC-keyed by the shield (no raw email, IP or device id
 * ever reaches a store). Keys that belong to one account carry a `{hash tag}` so a Redis
 * Cluster keeps them in one slot. A store adds its own prefix and version.
 */

/** A velocity counter family: at most `points` within a fixed window of `durationSec`. */
export interface CounterSpec {
  /** Stable name, used as the key prefix of the family (e.g. `fail_ip`). */
  readonly name: string;
  /** The limit the family is scored against; reaching it is "exceeded". */
  readonly points: number;
  /** Window length in seconds; counters expire with their window. */
  readonly durationSec: number;
}

export interface CounterRef {
  readonly spec: CounterSpec;
  /** HMAC-keyed identifier within the family (may contain a `{hash tag}`). */
  readonly key: string;
}

export interface CounterIncrement extends CounterRef {
  /** May be negative to take points back: never creates a counter nor goes below zero. */
  readonly points: number;
}

export interface CounterValue {
  /** Points consumed in the current window (0 when the counter does not exist). */
  readonly consumed: number;
  /** Milliseconds until the window resets (0 when the counter does not exist). */
  readonly msBeforeNext: number;
}

export interface ReadRequest {
  readonly counters: readonly CounterRef[];
  readonly keys: readonly string[];
  /**
   * Optional, on a request that is read again and again (a returning device's kept read):
   * where a store may note what it found, to answer the next read of the same request without
   * a lookup while nothing changed (the embedded store does, see read-notes.ts). One per
   * request object; a store without use for it ignores it. Never changes an answer.
   */
  readonly hints?: ReadHints;
}

/**
 * A store's notes on what the last read of a request found (see `ReadRequest.hints`). Opaque
 * to everyone but the store that wrote them, which checks every note before it trusts it: a
 * note can only save a lookup, never change what a read answers.
 */
export class ReadHints {
  /** The store the notes are about; another store starts them afresh. */
  owner: object | undefined = undefined;
  /** The numbers noted, in the store's own layout (one array: a kept read stays small). */
  numbers: number[] | undefined = undefined;
  /** The strings noted, in the store's own layout. */
  strings: (string | undefined)[] | undefined = undefined;
}

export interface ReadResult {
  /** Same order as `ReadRequest.counters`. */
  readonly counters: CounterValue[];
  /** Same order as `ReadRequest.keys`; `undefined` for a missing or expired key. */
  readonly values: (string | undefined)[];
}

/** A withdrawal lock as stored: the latest expiry and why. */
export interface LockRecord {
  /** Epoch milliseconds when withdrawals unlock. */
  readonly until: number;
  /** Newest last; bounded by the shield. */
  readonly reasons: readonly LockReason[];
}

export interface LockReason {
  readonly kind: string;
  /** Epoch milliseconds the cause happened. */
  readonly at: number;
  /** Epoch milliseconds this cause alone would lock until. */
  readonly until: number;
  readonly detail?: string;
  readonly actor?: string;
  /** Names one pending-change hold, so that change alone can settle it (see `src/locks.ts`). */
  readonly ref?: string;
}

export interface Store {
  /** Human-readable backend name for logs and metrics (`memory`, `redis`, `redis-cluster`). */
  readonly name: string;

  /** Everything a decision reads, in one round trip for a remote store. */
  read(request: ReadRequest): Promise<ReadResult>;

  /**
   * Optional: the decision path's operations, answered synchronously. Only a store that
   * answers in-process can offer them (the embedded one does); a decision then waits for no
   * tick of the event loop, which was most of what a login cost on it.
   */
  readonly sync?: SyncStore;

  /** Add points to counters (creating them with their window); returns the new values. */
  add(increments: readonly CounterIncrement[]): Promise<CounterValue[]>;

  /** Delete counters (e.g. consecutive failures of an ip+account after a success). */
  reset(counters: readonly CounterRef[]): Promise<void>;

  /** Set a value that expires after `ttlMs` (always > 0: nothing lives forever). */
  set(key: string, value: string, ttlMs: number): Promise<void>;

  /** Read and delete atomically: only one caller can ever take a given key. */
  take(key: string): Promise<string | undefined>;

  /** Delete; resolves true when the key existed. */
  delete(key: string): Promise<boolean>;

  /** Atomic increment of a plain counter that expires `ttlMs` after creation. */
  increment(key: string, ttlMs: number): Promise<number>;

  /** Read the lock for `key`; undefined when there is none or it expired. */
  getLock(key: string, now: number): Promise<LockRecord | undefined>;

  /**
   * Atomically merge a cause into the lock for `key`: the lock's `until` becomes the later of
   * the stored one and `reason.until` (never shortened), the reason is appended (keeping the
   * newest `maxReasons`), and the key expires when the lock does.
   */
  extendLock(key: string, reason: LockReason, now: number, maxReasons: number): Promise<LockRecord>;

  /** Remove the lock for `key`; resolves to what was removed. */
  clearLock(key: string, now: number): Promise<LockRecord | undefined>;

  /** Release timers and connections. */
  close(): Promise<void>;
}

/** The same answers as the `Store` methods of the same names, without a promise. */
export interface SyncStore {
  read(request: ReadRequest): ReadResult;
  add(increments: readonly CounterIncrement[]): CounterValue[];
  reset(counters: readonly CounterRef[]): void;
  set(key: string, value: string, ttlMs: number): void;
}
