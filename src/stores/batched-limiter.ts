import { RateLimiterRes } from 'rate-limiter-flexible';
import { StoreAbstract } from './rlf-store-abstract.js';

/** A counter as the server reports it after an operation. */
export interface CounterReply {
  readonly consumed: number;
  /** Milliseconds left in the window; 0 when the counter does not exist. */
  readonly msBeforeNext: number;
}

/**
 * Where a batched limiter's storage operations go: the store that owns the connection. `upsert`
 * may hold an operation back until the store sends every upsert of one `add` together.
 */
export interface CounterSink {
  upsert(rlKey: string, points: number, msDuration: number): Promise<CounterReply>;
  get(rlKey: string): Promise<CounterReply | null>;
  delete(rlKey: string): Promise<boolean>;
}

export interface BatchedLimiterOptions {
  /** Full key prefix of the family (store prefix, `rl:`, family name): the library appends `:key`. */
  readonly keyPrefix: string;
  readonly points: number;
  readonly duration: number;
  readonly sink: CounterSink;
}

/**
 * A rate-limiter-flexible limiter for Redis whose upserts can be sent many at a time.
 * RateLimiterRedis sends one script per `penalty`, so a failed login's seven increments cost
 * seven script calls; this limiter hands each upsert to its store, which sends all of one
 * decision's increments as one script call per slot group (see RedisStore.add). Keys, points,
 * windows and results are the library's, and the stored counters are laid out as
 * RateLimiterRedis lays them out (`<prefix>:<key>`, a plain integer with a TTL).
 */
export class RateLimiterBatchedRedis extends StoreAbstract {
  private readonly sink: CounterSink;

  constructor(options: BatchedLimiterOptions) {
    super({ keyPrefix: options.keyPrefix, points: options.points, duration: options.duration, storeClient: options.sink });
    this.sink = options.sink;
  }

  // The four methods below are the store contract of RateLimiterStoreAbstract.

  _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<CounterReply> {
    // Only `set` and `block` force a new window; the shield uses neither.
    if (forceExpire) return Promise.reject(new Error('RateLimiterBatchedRedis does not support set() or block()'));
    return this.sink.upsert(rlKey, points, msDuration);
  }

  _get(rlKey: string): Promise<CounterReply | null> {
    return this.sink.get(rlKey);
  }

  _delete(rlKey: string): Promise<boolean> {
    return this.sink.delete(rlKey);
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, reply: CounterReply): RateLimiterRes {
    const { consumed, msBeforeNext } = reply;
    return new RateLimiterRes(Math.max(this.points - consumed, 0), msBeforeNext, consumed, consumed === changedPoints);
  }
}
