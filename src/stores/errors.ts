/**
 * Errors a store raises. The shield relies on one type for every backend failure so each route
 * can choose to fail open (login, to local limits) or closed (withdrawals, 503) without knowing
 * which client library sits underneath.
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

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE' as const;
  readonly backend: string;
  readonly operation: string;
  readonly reason: StoreFailureReason;

  constructor(init: StoreUnavailableInit) {
    const detail = init.message ?? (init.cause instanceof Error ? init.cause.message : undefined);
    super(
      `${init.backend} store unavailable during ${init.operation} (${init.reason})${detail ? `: ${detail}` : ''}`,
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
  | 'MEMORY_OPTION_INVALID';

/** A store was configured in a way that cannot work; `fix` says what to change. */
export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
  readonly code: StoreConfigErrorCode;
  readonly fix: string;

  constructor(code: StoreConfigErrorCode, problem: string, fix: string) {
    super(`[account-shield ${code}] ${problem}. Fix: ${fix}`);
    this.code = code;
    this.fix = fix;
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
