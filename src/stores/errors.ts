import { ShieldError } from '../errors/shield-error.js';

/**
 * Errors a store raises. The shield relies on one type for every backend failure so each route
 * can choose to fail open (login, to local limits) or closed (withdrawals, 503) without knowing
 * which client library sits underneath. Both derive from ShieldError: a stable `code`, and a
 * `fix` sentence for the log line.
 */

/** Why a store call could not be answered. */
export type StoreFailureReason =
  /** No reply within the command timeout (server paused, overloaded or partitioned). */
  | 'timeout'
  /** No usable connection right now (server down, reconnecting, cluster not ready). */
  | 'disconnected'
  /** The store was closed by its owner. */
  | 'closed'
  /** The stored value could not be understood; treated as unknown state, never as "absent". */
  | 'corrupt'
  /** The server answered with an error (out of memory, read-only replica, ...). */
  | 'error';

export interface StoreUnavailableInit {
  readonly backend: string;
  readonly operation: string;
  readonly reason: StoreFailureReason;
  readonly cause?: unknown;
  readonly message?: string;
}

/** What an operator can do about each kind of failure; the store itself retries nothing. */
const FIX_BY_REASON: Record<StoreFailureReason, string> = {
  timeout:
    'check that the server is running and not paused or overloaded, and that commandTimeoutMs suits the network; calls succeed again as soon as it answers',
  disconnected: 'check that the server is up and reachable at the configured URL; the store reconnects by itself once it is',
  closed: 'close the shield before its store, and do not use a store after calling close()',
  corrupt:
    'something other than the shield wrote this key: find what writes under the store prefix, then clear the key (for a lock, with the locks CLI)',
  error: 'read the server error in this message (out of memory, read-only replica, ...) and fix the server; the store retries nothing',
};

export class StoreUnavailableError extends ShieldError {
  override readonly name = 'StoreUnavailableError';
  declare readonly code: 'STORE_UNAVAILABLE';
  readonly backend: string;
  readonly operation: string;
  readonly reason: StoreFailureReason;

  constructor(init: StoreUnavailableInit) {
    const detail = init.message ?? (init.cause instanceof Error ? init.cause.message : undefined);
    super(
      'STORE_UNAVAILABLE',
      `${init.backend} store unavailable during ${init.operation} (${init.reason})${detail ? `: ${detail}` : ''}`,
      FIX_BY_REASON[init.reason],
      // Only the name and message of the underlying error are kept: client errors can carry the
      // full command (keys and values) and this error is likely to end up in logs.
      init.cause === undefined ? undefined : { cause: redact(init.cause) },
    );
    this.backend = init.backend;
    this.operation = init.operation;
    this.reason = init.reason;
  }
}

export type StoreConfigErrorCode =
  | 'REDIS_OPTIONS_MISSING'
  | 'REDIS_OPTIONS_CONFLICT'
  | 'REDIS_URL_EMPTY'
  | 'REDIS_URL_INVALID'
  | 'REDIS_URL_SCHEME'
  | 'REDIS_URL_HOST'
  | 'REDIS_URL_PORT'
  | 'REDIS_URL_DB'
  | 'REDIS_URL_QUERY'
  | 'REDIS_CLUSTER_DB'
  | 'REDIS_CLUSTER_MIXED'
  | 'REDIS_PREFIX_INVALID'
  | 'REDIS_TIMEOUT_INVALID'
  | 'MEMORY_OPTION_INVALID'
  /** A counter family a store cannot keep: a bad name or window, or more families than it can tell apart. */
  | 'COUNTER_SPEC_INVALID';

/** A store was configured in a way that cannot work; `fix` says what to change. */
export class StoreConfigError extends ShieldError {
  override readonly name = 'StoreConfigError';
  declare readonly code: StoreConfigErrorCode;

  constructor(code: StoreConfigErrorCode, problem: string, fix: string) {
    super(code, problem, fix);
  }
}

function redact(cause: unknown): Error {
  if (cause instanceof Error) {
    const copy = new Error(cause.message);
    copy.name = cause.name;
    return copy;
  }
  return new Error(String(cause));
}
