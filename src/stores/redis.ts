import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { checkCounterSpec, checkKey, checkLockArguments, checkPoints, checkTtl } from './checks.js';
import { StoreConfigError, type StoreFailureReason, StoreUnavailableError } from './errors.js';
import { EXTEND_LOCK_LUA, INCREMENT_LUA, REFUND_LUA } from './redis-scripts.js';
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

/** Our Lua, registered on the client under names unlikely to clash with the application's. */
interface ScriptCommands {
  accountShieldIncrement(key: string, ttlMs: number): Promise<number>;
  accountShieldRefund(key: string, points: number): Promise<[number, number]>;
  accountShieldExtendLock(key: string, reason: string, now: number, maxReasons: number): Promise<string>;
}

type ReadCommand = readonly [command: 'get' | 'pttl', key: string];

/**
 * Options for a single-server client that fail fast instead of queueing: a paused or dead Redis
 * must turn into a quick StoreUnavailableError so the shield can fail open or closed per route,
 * not into login requests hanging behind a growing offline queue. Use them when you build the
 * client yourself and pass it as `client`.
 */
export function redisClientOptions(
  commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
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
export function clusterClientOptions(
  commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): ClusterOptions {
  const { retryStrategy: _unused, enableOfflineQueue: _node, ...node } = redisClientOptions(commandTimeoutMs, connectTimeoutMs);
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
export function createRedisClient(
  target: RedisTarget,
  commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): RedisClient {
  const [first] = target.endpoints;
  if (!first) throw new StoreConfigError('REDIS_URL_EMPTY', 'no Redis URL was given', 'set it to redis://host:6379');
  const auth = {
    ...(first.username ? { username: first.username } : {}),
    ...(first.password ? { password: first.password } : {}),
    ...(first.tls ? { tls: {} } : {}),
  };
  if (target.mode === 'single') {
    return new Redis({ host: first.host, port: first.port, db: first.db, ...auth, ...redisClientOptions(commandTimeoutMs, connectTimeoutMs) });
  }
  const options = clusterClientOptions(commandTimeoutMs, connectTimeoutMs);
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
 * Shared state in Redis or Redis Cluster. Velocity goes through rate-limiter-flexible's Redis
 * limiter (one per counter family), so windows behave exactly as in the memory store; reads
 * bypass it to fetch every counter and key of a decision in one pipelined round trip.
 *
 * Key layout (P = prefix): counters `P` + `rl:<family>:<key>`, everything else `P` + key. Keys
 * keep the caller's `{hash tag}` as their first brace pair, so one account's keys share a slot.
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
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private firstConnect: Promise<void> | undefined;
  private closed = false;

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
      this.client = createRedisClient(parseRedisTarget(options.url), commandTimeoutMs, connectTimeoutMs);
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
    this.client.defineCommand('accountShieldIncrement', { numberOfKeys: 1, lua: INCREMENT_LUA });
    this.client.defineCommand('accountShieldRefund', { numberOfKeys: 1, lua: REFUND_LUA });
    this.client.defineCommand('accountShieldExtendLock', { numberOfKeys: 1, lua: EXTEND_LOCK_LUA });
    this.scripts = this.client as unknown as ScriptCommands;
    const status = this.client.status;
    if (status !== 'ready' && status !== 'end') this.firstConnect = this.awaitFirstConnect(connectTimeoutMs);
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const commands: ReadCommand[] = [];
    for (const { spec, key } of request.counters) {
      const rlKey = this.limiter(spec).getKey(checkKey(key));
      commands.push(['get', rlKey], ['pttl', rlKey]);
    }
    for (const key of request.keys) commands.push(['get', this.key(key)]);
    if (commands.length === 0) return { counters: [], values: [] };
    const replies = await this.run('read', () => this.pipeline(commands));
    const counters = request.counters.map((_, i): CounterValue => {
      const value = replies[2 * i];
      if (value === null || value === undefined) return NO_COUNTER;
      const ttl = Number(replies[2 * i + 1]);
      return { consumed: Number.parseInt(String(value), 10), msBeforeNext: Math.max(ttl, 0) };
    });
    const offset = 2 * request.counters.length;
    const values = request.keys.map((_, i) => {
      const value = replies[offset + i];
      return value === null || value === undefined ? undefined : String(value);
    });
    return { counters, values };
  }

  async add(increments: readonly CounterIncrement[]): Promise<CounterValue[]> {
    const work = increments.map(({ spec, key, points }) => ({ limiter: this.limiter(spec), key: checkKey(key), points: checkPoints(points) }));
    if (work.length === 0) return [];
    // All penalties are issued before any reply is awaited, so they share one round trip (per
    // node, concurrently, on a Cluster).
    return this.run('add', () =>
      Promise.all(
        work.map(async ({ limiter, key, points }) => {
          if (points < 0) {
            const [consumed, pttl] = await this.scripts.accountShieldRefund(limiter.getKey(key), -points);
            return { consumed: Number(consumed), msBeforeNext: Math.max(0, Number(pttl)) };
          }
          const res = await limiter.penalty(key, points);
          return { consumed: res.consumedPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
        }),
      ),
    );
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
      if (this.client.status === 'ready') await withDeadline(this.client.quit(), this.commandTimeoutMs, () => new Error('quit timed out'));
    } catch {
      // Falls through to a hard disconnect.
    } finally {
      if (this.client.status !== 'end') this.client.disconnect();
    }
  }

  private key(key: string): string {
    return this.prefix + checkKey(key);
  }

  private limiter(spec: CounterSpec): RateLimiterRedis {
    const id = `${spec.name}\0${spec.points}\0${spec.durationSec}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      checkCounterSpec(spec, true);
      limiter = new RateLimiterRedis({
        storeClient: this.client,
        useRedisPackage: false,
        keyPrefix: `${this.prefix}rl:${spec.name}`,
        points: spec.points,
        duration: spec.durationSec,
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  /** Runs GET/PTTL commands in one pipeline per node; the pipelines are sent together. */
  private async pipeline(commands: readonly ReadCommand[]): Promise<unknown[]> {
    const cluster = this.cluster;
    if (!cluster) return execPipeline(this.client, commands);
    // ioredis accepts one Cluster pipeline per set of nodes, so group by the node set that
    // serves each key's slot. Slots ioredis has not mapped yet get a pipeline each.
    const groups = new Map<string, number[]>();
    commands.forEach(([, key], i) => {
      const slot = keySlot(key);
      const nodes = cluster.slots[slot];
      const id = nodes && nodes.length > 0 ? nodes.join(';') : `slot:${slot}`;
      const group = groups.get(id);
      if (group) group.push(i);
      else groups.set(id, [i]);
    });
    const replies: unknown[] = new Array(commands.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const results = await execPipeline(
          cluster,
          indexes.map((i) => commands[i]!),
        );
        indexes.forEach((commandIndex, j) => {
          replies[commandIndex] = results[j];
        });
      }),
    );
    return replies;
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.unavailable(operation, 'closed');
    if (this.client.status !== 'ready') await this.whenUsable(operation);
    try {
      return await withDeadline(work(), this.commandTimeoutMs, () => this.unavailable(operation, 'timeout'));
    } catch (error) {
      throw this.wrap(operation, error);
    }
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

async function execPipeline(client: RedisClient, commands: readonly ReadCommand[]): Promise<unknown[]> {
  const pipeline = client.pipeline();
  for (const [command, key] of commands) pipeline[command](key);
  const results = await pipeline.exec();
  if (!results) throw new Error('pipeline was discarded');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  // race() keeps a handler on `work`, so a rejection after the deadline is not unhandled.
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
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

/** Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, or of the whole key). */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key);
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc & 0x3fff;
}

const CRC16_TABLE = Array.from({ length: 256 }, (_, i) => {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});
