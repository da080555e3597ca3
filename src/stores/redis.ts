import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import { type CounterReply, type CounterSink, RateLimiterBatchedRedis } from './batched-limiter.js';
import { checkCounterSpec, checkKey, checkLockArguments, checkPoints, checkTtl } from './checks.js';
import { StoreConfigError, type StoreFailureReason, StoreUnavailableError } from './errors.js';
import { EXTEND_LOCK_LUA, INCREMENT_LUA, READ_LUA, UPSERT_LUA } from './redis-scripts.js';
import { keySlot, slotGroups } from './redis-slots.js';

/** ioredis's refusal of a pipeline whose keys no longer map to one node. */
const SPANS_NODES = /same slots allocation group/;
import { parseRedisTarget, type RedisTarget } from './redis-url.js';
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

/** Re-exported: tests and tools compute slots the way the store groups its calls. */
export { keySlot } from './redis-slots.js';

export type RedisClient = Redis | Cluster;

export interface RedisStoreOptions {
  /** A client you own; `close()` leaves it open. Give either this or `url`. */
  client?: RedisClient;
  /** `redis://` / `rediss://` URL, or Cluster seed URLs (an array or a comma-separated list). */
  url?: string | readonly string[];
  /** Namespace and schema version of every key. Default `as:v1:`. Must not contain `{` or `}`. */
  prefix?: string;
  /** Longest a store call may wait for Redis before rejecting with StoreUnavailableError. Default 250 ms. */
  commandTimeoutMs?: number;
  /** How long calls made before the first connection wait for it. Default 2000 ms. */
  connectTimeoutMs?: number;
}

export const DEFAULT_REDIS_PREFIX = 'as:v1:';
export const DEFAULT_COMMAND_TIMEOUT_MS = 250;
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

const NO_COUNTER: CounterValue = { consumed: 0, msBeforeNext: 0 };

type ScriptName = 'accountShieldRead' | 'accountShieldUpsert';
type ScriptArg = string | number;

/** Our Lua, registered on the client under names unlikely to clash with the application's. */
interface ScriptCommands {
  accountShieldRead(numKeys: number, ...keysThenArgs: ScriptArg[]): Promise<unknown[]>;
  accountShieldUpsert(numKeys: number, ...keysThenArgs: ScriptArg[]): Promise<unknown[]>;
  accountShieldIncrement(key: string, ttlMs: number): Promise<number>;
  accountShieldExtendLock(key: string, reason: string, now: number, maxReasons: number): Promise<string>;
}

/** One script call: keys of one hash slot (any keys on a single server) and its arguments. */
interface ScriptCall {
  readonly script: ScriptName;
  readonly keys: ScriptArg[];
  readonly args: ScriptArg[];
}

/** An upsert a limiter handed over while `add` was collecting them. */
interface QueuedUpsert {
  readonly rlKey: string;
  readonly points: number;
  readonly msDuration: number;
  resolve(reply: CounterReply): void;
  reject(error: unknown): void;
}

/**
 * Options for a single-server client that fail fast instead of queueing: a dead Redis must turn
 * into a quick StoreUnavailableError so the shield can fail open or closed per route, not into
 * login requests hanging behind a growing offline queue. Use them when you build the client
 * yourself and pass it as `client`.
 *
 * There is no per-command timeout: the store bounds each of its calls with one deadline
 * (`commandTimeoutMs`), whatever the number of commands and nodes it involves, and an ioredis
 * `commandTimeout` would only add a timer per command (a timed-out command stays queued on its
 * connection until the server answers or the connection drops, either way).
 */
export function redisClientOptions(connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): RedisOptions {
  return {
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: false,
    // In-flight commands are failed on disconnect rather than replayed after reconnecting: a
    // replayed penalty or INCR would count twice, and the caller has already been told it failed.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
  };
}

/** The Cluster counterpart of `redisClientOptions`. */
export function clusterClientOptions(connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): ClusterOptions {
  const { retryStrategy: _unused, enableOfflineQueue: _node, ...node } = redisClientOptions(connectTimeoutMs);
  return {
    enableOfflineQueue: false,
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    slotsRefreshTimeout: connectTimeoutMs,
    retryDelayOnFailover: 50,
    retryDelayOnClusterDown: 50,
    retryDelayOnTryAgain: 50,
    redisOptions: node,
  };
}

/** A client for a parsed target: one server, or a Cluster from its seeds. */
export function createRedisClient(target: RedisTarget, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): RedisClient {
  const [first] = target.endpoints;
  if (!first) throw new StoreConfigError('REDIS_URL_EMPTY', 'no Redis URL was given', 'set it to redis://host:6379');
  const auth = {
    ...(first.username ? { username: first.username } : {}),
    ...(first.password ? { password: first.password } : {}),
    ...(first.tls ? { tls: {} } : {}),
  };
  if (target.mode === 'single') {
    return new Redis({ host: first.host, port: first.port, db: first.db, ...auth, ...redisClientOptions(connectTimeoutMs) });
  }
  const options = clusterClientOptions(connectTimeoutMs);
  return new Cluster(
    target.endpoints.map(({ host, port }) => ({ host, port })),
    { ...options, redisOptions: { ...options.redisOptions, ...auth } },
  );
}

/** One URL → a single-server store; a comma-separated seed list → a Cluster store. */
export function createRedisStoreFromUrl(
  urlOrCommaList: string,
  options: Omit<RedisStoreOptions, 'client' | 'url'> = {},
): RedisStore {
  return new RedisStore({ ...options, url: urlOrCommaList });
}

/**
 * Shared state in Redis or Redis Cluster.
 *
 * A decision costs one round trip per call: `read` is one script call returning every counter's
 * value and TTL and every key's value; `add` hands each increment to rate-limiter-flexible (one
 * limiter per counter family, over this store's own storage, see RateLimiterBatchedRedis), which
 * gives it back here to be sent with the others as one script call. On a Cluster a script's
 * keys must share a slot, so there is one call per slot group, and the calls for one node go
 * out together as one pipeline: one round trip per node involved, all nodes at once (see
 * `redis-slots.ts` for how many a login decision touches).
 *
 * Key layout (P = prefix): counters `P` + `rl:<family>:<key>` (as RateLimiterRedis lays them
 * out), everything else `P` + key. Keys keep the caller's `{hash tag}` as their first brace
 * pair, so one account's keys share a slot.
 */
export class RedisStore implements Store {
  readonly name: 'redis' | 'redis-cluster';
  readonly prefix: string;
  private readonly client: RedisClient;
  private readonly scripts: ScriptCommands;
  private readonly cluster: Cluster | undefined;
  private readonly ownsClient: boolean;
  private readonly commandTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  /** By spec object (the shield's specs live as long as it does), then by content. */
  private readonly limiterOf = new WeakMap<CounterSpec, RateLimiterBatchedRedis>();
  private readonly limiters = new Map<string, RateLimiterBatchedRedis>();
  /** While `add` hands increments to the limiters: the upserts they give back, sent together. */
  private collecting: QueuedUpsert[] | undefined;
  private firstConnect: Promise<void> | undefined;
  private closed = false;

  private readonly sink: CounterSink = {
    upsert: (rlKey, points, msDuration) =>
      new Promise<CounterReply>((resolve, reject) => {
        const upsert = { rlKey, points, msDuration, resolve, reject };
        if (this.collecting) this.collecting.push(upsert);
        else this.sendUpserts([upsert]);
      }),
    get: async (rlKey) => {
      const [value, ttl] = await this.sendScripts([{ script: 'accountShieldRead', keys: [rlKey], args: [1] }]).then(
        (replies) => replies[0] as unknown[],
      );
      return value === null || value === undefined ? null : { consumed: Number(value), msBeforeNext: Math.max(0, Number(ttl)) };
    },
    delete: async (rlKey) => (await this.client.del(rlKey)) > 0,
  };

  constructor(options: RedisStoreOptions) {
    const commandTimeoutMs = positiveMs(options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, 'commandTimeoutMs');
    const connectTimeoutMs = positiveMs(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new StoreConfigError(
        'REDIS_PREFIX_INVALID',
        `prefix ${JSON.stringify(prefix)} contains a brace`,
        'use a prefix without { or }: a brace would become the Cluster hash tag of every key and put all of them in one slot',
      );
    }
    if (options.client && options.url !== undefined) {
      throw new StoreConfigError('REDIS_OPTIONS_CONFLICT', 'both client and url were given', 'pass only one of them');
    }
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
      if (this.client.options.keyPrefix) {
        throw new StoreConfigError(
          'REDIS_OPTIONS_CONFLICT',
          'the client has ioredis keyPrefix set',
          'create the client without keyPrefix and pass the namespace as the store prefix option',
        );
      }
    } else if (options.url !== undefined) {
      this.client = createRedisClient(parseRedisTarget(options.url), connectTimeoutMs);
      this.ownsClient = true;
      // Failures reach callers as StoreUnavailableError; without a listener ioredis would also
      // print every reconnection attempt to the console.
      this.client.on('error', () => {});
    } else {
      throw new StoreConfigError(
        'REDIS_OPTIONS_MISSING',
        'neither client nor url was given',
        'pass { url: "redis://host:6379" } or { client: new Redis(...) }',
      );
    }
    this.cluster = isCluster(this.client) ? this.client : undefined;
    this.name = this.cluster ? 'redis-cluster' : 'redis';
    this.prefix = prefix;
    this.commandTimeoutMs = commandTimeoutMs;
    this.connectTimeoutMs = connectTimeoutMs;
    // ioredis sends EVALSHA, and the script itself once per connection or after NOSCRIPT (a
    // restarted server or SCRIPT FLUSH), so scripts survive whatever happened to the server's cache.
    this.client.defineCommand('accountShieldRead', { lua: READ_LUA });
    this.client.defineCommand('accountShieldUpsert', { lua: UPSERT_LUA });
    this.client.defineCommand('accountShieldIncrement', { numberOfKeys: 1, lua: INCREMENT_LUA });
    this.client.defineCommand('accountShieldExtendLock', { numberOfKeys: 1, lua: EXTEND_LOCK_LUA });
    this.scripts = this.client as unknown as ScriptCommands;
    const status = this.client.status;
    if (status !== 'ready' && status !== 'end') this.firstConnect = this.awaitFirstConnect(connectTimeoutMs);
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const counterCount = request.counters.length;
    const keys: string[] = [];
    for (const { spec, key } of request.counters) keys.push(this.limiter(spec).getKey(checkKey(key)));
    for (const key of request.keys) keys.push(this.key(key));
    if (keys.length === 0) return { counters: [], values: [] };

    // Counters come first in every call (indexes ascend within a slot group), as the script expects.
    const groups = this.cluster ? slotGroups(keys) : [keys.map((_, i) => i)];
    const calls = groups.map((indexes): ScriptCall => {
      let counters = 0;
      while (counters < indexes.length && (indexes[counters] as number) < counterCount) counters++;
      return { script: 'accountShieldRead', keys: indexes.map((i) => keys[i] as string), args: [counters] };
    });
    const replies = await this.run('read', () => this.sendScripts(calls));

    const counters: CounterValue[] = new Array<CounterValue>(counterCount);
    const values: (string | undefined)[] = new Array<string | undefined>(request.keys.length);
    groups.forEach((indexes, g) => {
      const reply = replies[g] as unknown[];
      let at = 0;
      for (const i of indexes) {
        const value = reply[at++];
        if (i < counterCount) {
          const ttl = reply[at++];
          counters[i] = value === null || value === undefined ? NO_COUNTER : { consumed: Number(value), msBeforeNext: Math.max(0, Number(ttl)) };
        } else {
          values[i - counterCount] = value === null || value === undefined ? undefined : String(value);
        }
      }
    });
    return { counters, values };
  }

  async add(increments: readonly CounterIncrement[]): Promise<CounterValue[]> {
    // Everything is checked before anything is sent: a bad increment must not leave the others half done.
    const work = increments.map(({ spec, key, points }) => ({ limiter: this.limiter(spec), key: checkKey(key), points: checkPoints(points) }));
    if (work.length === 0) return [];
    return this.run('add', () => {
      // The limiters hand their upserts back synchronously (penalty → _upsert); collect them
      // and send them as one batch. One that came back later would simply go on its own.
      const upserts: QueuedUpsert[] = [];
      let results: Promise<RateLimiterRes>[];
      this.collecting = upserts;
      try {
        results = work.map(({ limiter, key, points }) => (points < 0 ? limiter.reward(key, -points) : limiter.penalty(key, points)));
      } finally {
        this.collecting = undefined;
      }
      this.sendUpserts(upserts);
      return Promise.all(results).then((all) => all.map(toCounterValue));
    });
  }

  async reset(counters: readonly CounterRef[]): Promise<void> {
    const work = counters.map(({ spec, key }) => ({ limiter: this.limiter(spec), key: checkKey(key) }));
    if (work.length === 0) return;
    await this.run('reset', () => Promise.all(work.map(({ limiter, key }) => limiter.delete(key))));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const k = this.key(key);
    const px = checkTtl(ttlMs);
    await this.run('set', () => this.client.set(k, value, 'PX', px));
  }

  async take(key: string): Promise<string | undefined> {
    const k = this.key(key);
    const value = await this.run('take', () => this.client.getdel(k));
    return value ?? undefined;
  }

  async delete(key: string): Promise<boolean> {
    const k = this.key(key);
    return (await this.run('delete', () => this.client.del(k))) > 0;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const k = this.key(key);
    const px = checkTtl(ttlMs);
    return Number(await this.run('increment', () => this.scripts.accountShieldIncrement(k, px)));
  }

  async getLock(key: string, now: number): Promise<LockRecord | undefined> {
    const k = this.key(key);
    const raw = await this.run('getLock', () => this.client.get(k));
    return this.liveLock('getLock', raw, now);
  }

  async extendLock(key: string, reason: LockReason, now: number, maxReasons: number): Promise<LockRecord> {
    const k = this.key(key);
    checkLockArguments(reason, now, maxReasons);
    const raw = await this.run('extendLock', () =>
      this.scripts.accountShieldExtendLock(k, JSON.stringify(reason), now, maxReasons),
    );
    const lock = this.parseLock('extendLock', raw);
    if (!lock) throw this.unavailable('extendLock', 'corrupt', 'the lock script returned nothing');
    return lock;
  }

  async clearLock(key: string, now: number): Promise<LockRecord | undefined> {
    const k = this.key(key);
    const raw = await this.run('clearLock', () => this.client.getdel(k));
    try {
      return this.liveLock('clearLock', raw, now);
    } catch {
      // The unreadable value is gone, which is what clearing asked for; there is no record to return.
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.ownsClient) return;
    try {
      if (this.client.status === 'ready') {
        await withDeadline(() => this.client.quit(), this.commandTimeoutMs, () => new Error('quit timed out'), (error) => (error instanceof Error ? error : new Error(String(error))));
      }
    } catch {
      // Falls through to a hard disconnect.
    } finally {
      if (this.client.status !== 'end') this.client.disconnect();
    }
  }

  private key(key: string): string {
    return this.prefix + checkKey(key);
  }

  private limiter(spec: CounterSpec): RateLimiterBatchedRedis {
    let limiter = this.limiterOf.get(spec);
    if (limiter) return limiter;
    checkCounterSpec(spec, true);
    const id = `${spec.name}\0${spec.points}\0${spec.durationSec}`;
    limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterBatchedRedis({
        sink: this.sink,
        keyPrefix: `${this.prefix}rl:${spec.name}`,
        points: spec.points,
        duration: spec.durationSec,
      });
      this.limiters.set(id, limiter);
    }
    this.limiterOf.set(spec, limiter);
    return limiter;
  }

  /** Send upserts as one script call per slot group, and settle each with its counter. */
  private sendUpserts(upserts: readonly QueuedUpsert[]): void {
    if (upserts.length === 0) return;
    const keys = upserts.map((u) => u.rlKey);
    const groups = this.cluster ? slotGroups(keys) : [keys.map((_, i) => i)];
    const calls = groups.map((indexes): ScriptCall => {
      const args: ScriptArg[] = [];
      for (const i of indexes) {
        const upsert = upserts[i] as QueuedUpsert;
        args.push(upsert.points, Math.ceil(upsert.msDuration));
      }
      return { script: 'accountShieldUpsert', keys: indexes.map((i) => keys[i] as string), args };
    });
    this.sendScripts(calls).then(
      (replies) =>
        groups.forEach((indexes, g) => {
          const reply = replies[g] as unknown[];
          indexes.forEach((i, j) => {
            (upserts[i] as QueuedUpsert).resolve({ consumed: Number(reply[2 * j]), msBeforeNext: Math.max(0, Number(reply[2 * j + 1])) });
          });
        }),
      (error: unknown) => {
        for (const upsert of upserts) upsert.reject(error);
      },
    );
  }

  /**
   * Send script calls and resolve with their replies, in order; every call is written before any
   * reply is awaited, so a batch costs one round trip per node it involves, all nodes at once.
   *
   * On a Cluster the calls for one node go as one pipeline. Besides saving writes, that is what
   * keeps a burst safe while ioredis is still opening a node's connection (it opens them on
   * first use): with the offline queue off, a second direct command to a connecting node is
   * refused and retried on a random node, which answers MOVED; a pipeline waits in the node's
   * own queue. A call the node answers with MOVED, ASK or TRYAGAIN (a resharding, a failover
   * since ioredis mapped the slot) is sent again on its own, which ioredis redirects.
   */
  private async sendScripts(calls: readonly ScriptCall[]): Promise<unknown[]> {
    const cluster = this.cluster;
    if (!cluster || calls.length === 1) return Promise.all(calls.map((call) => this.callScript(call)));
    const perNode = new Map<string, number[]>();
    calls.forEach((call, i) => {
      const slot = keySlot(String(call.keys[0]));
      // Slots ioredis has not mapped yet get a pipeline each, which ioredis routes.
      const nodes = cluster.slots[slot];
      const id = nodes && nodes.length > 0 ? nodes.join(';') : `slot:${slot}`;
      const group = perNode.get(id);
      if (group) group.push(i);
      else perNode.set(id, [i]);
    });
    const replies: unknown[] = new Array(calls.length);
    await Promise.all(
      [...perNode.values()].map(async (indexes) => {
        const pipeline = cluster.pipeline();
        // A pipeline's script methods queue the call and return the pipeline; replies come from exec().
        const queue = pipeline as unknown as Record<ScriptName, (numKeys: number, ...keysThenArgs: ScriptArg[]) => unknown>;
        for (const i of indexes) {
          const call = calls[i] as ScriptCall;
          queue[call.script](call.keys.length, ...call.keys, ...call.args);
        }
        let results: Awaited<ReturnType<typeof pipeline.exec>>;
        try {
          results = await pipeline.exec();
        } catch (error) {
          // The slot map changed between grouping and sending (a MOVED refreshed it meanwhile):
          // ioredis refuses a pipeline that now spans nodes. Send each call on its own instead.
          if (!(error instanceof Error) || !SPANS_NODES.test(error.message)) throw error;
          const own = await Promise.all(indexes.map((i) => this.callScript(calls[i] as ScriptCall)));
          own.forEach((value, j) => {
            replies[indexes[j] as number] = value;
          });
          return;
        }
        if (!results) throw new Error('pipeline was discarded');
        await Promise.all(
          results.map(async ([error, value], j) => {
            const i = indexes[j] as number;
            if (!error) replies[i] = value;
            else if (/^(MOVED|ASK|TRYAGAIN)\b/.test(error.message)) replies[i] = await this.callScript(calls[i] as ScriptCall);
            else throw error;
          }),
        );
      }),
    );
    return replies;
  }

  /** Never throws: a client that refuses a call synchronously rejects it like any other failure. */
  private callScript(call: ScriptCall): Promise<unknown[]> {
    try {
      return this.scripts[call.script](call.keys.length, ...call.keys, ...call.args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One deadline per store call, however many commands and nodes the call involves. */
  private run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.unavailable(operation, 'closed'));
    const timed = () =>
      withDeadline(work, this.commandTimeoutMs, () => this.unavailable(operation, 'timeout'), (error) => this.wrap(operation, error));
    if (this.client.status === 'ready') return timed();
    return this.whenUsable(operation).then(timed);
  }

  /**
   * Calls made while the client is still making its first connection wait for it (bounded);
   * after that a client that is not ready means Redis is down or reconnecting, and the call
   * fails at once rather than adding load or latency while it is.
   */
  private async whenUsable(operation: string): Promise<void> {
    if (this.client.status === 'wait') this.firstConnect ??= this.awaitFirstConnect(this.connectTimeoutMs);
    if (this.firstConnect) await this.firstConnect;
    if (this.closed) throw this.unavailable(operation, 'closed');
    if (this.client.status !== 'ready') {
      throw this.unavailable(operation, 'disconnected', `client is ${this.client.status}`);
    }
  }

  private awaitFirstConnect(timeoutMs: number): Promise<void> {
    const client = this.client;
    if (client.status === 'wait') client.connect().catch(() => {});
    return new Promise<void>((resolve) => {
      const events = ['ready', 'close', 'end', 'error'] as const;
      const done = () => {
        clearTimeout(timer);
        for (const event of events) client.off(event, done);
        this.firstConnect = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      for (const event of events) client.on(event, done);
    });
  }

  private liveLock(operation: string, raw: string | null, now: number): LockRecord | undefined {
    const lock = this.parseLock(operation, raw);
    return lock && lock.until > now ? lock : undefined;
  }

  private parseLock(operation: string, raw: string | null): LockRecord | undefined {
    if (raw === null) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw this.unavailable(operation, 'corrupt', 'stored lock is not JSON');
    }
    if (!isLockRecord(value)) throw this.unavailable(operation, 'corrupt', 'stored lock has an unexpected shape');
    return value;
  }

  private wrap(operation: string, error: unknown): Error {
    if (error instanceof StoreUnavailableError) return error;
    return new StoreUnavailableError({ backend: this.name, operation, reason: classify(error), cause: error });
  }

  private unavailable(operation: string, reason: StoreFailureReason, message?: string): StoreUnavailableError {
    return new StoreUnavailableError({ backend: this.name, operation, reason, ...(message ? { message } : {}) });
  }
}

function toCounterValue(res: RateLimiterRes): CounterValue {
  if (res.consumedPoints <= 0 && res.msBeforeNext <= 0) return NO_COUNTER;
  return { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
}

/**
 * `work()` settled within `ms`, or rejected with `onTimeout()`; its own failures go through
 * `wrap`. One timer, cleared as soon as the work settles; a late settlement is ignored.
 */
function withDeadline<T>(work: () => Promise<T>, ms: number, onTimeout: () => Error, wrap: (error: unknown) => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    const fail = (error: unknown) => {
      clearTimeout(timer);
      reject(wrap(error));
    };
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      fail(error);
      return;
    }
    running.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, fail);
  });
}

function classify(error: unknown): StoreFailureReason {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : '';
  if (message === 'Command timed out') return 'timeout';
  if (message.startsWith('ASHIELD_CORRUPT_LOCK')) return 'corrupt';
  if (
    name === 'MaxRetriesPerRequestError' ||
    // Connection trouble, or a Cluster whose topology is in flux (a node down or failing over).
    /Connection is closed|isn't writeable|isn't ready|Cluster is ended|None of startup nodes|Failed to refresh slots|Too many Cluster redirections|^(CLUSTERDOWN|MOVED|ASK|TRYAGAIN|MASTERDOWN|READONLY|LOADING)\b|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/.test(
      message,
    )
  ) {
    return 'disconnected';
  }
  return 'error';
}

function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster || client.isCluster === true;
}

function isLockRecord(value: unknown): value is LockRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as { until?: unknown; reasons?: unknown };
  return (
    typeof record.until === 'number' &&
    Array.isArray(record.reasons) &&
    record.reasons.every(
      (reason: unknown) =>
        typeof reason === 'object' &&
        reason !== null &&
        typeof (reason as LockReason).kind === 'string' &&
        typeof (reason as LockReason).at === 'number' &&
        typeof (reason as LockReason).until === 'number',
    )
  );
}

function positiveMs(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new StoreConfigError('REDIS_TIMEOUT_INVALID', `${option} is ${value}`, `set ${option} to a positive number of milliseconds`);
  }
  return value;
}
