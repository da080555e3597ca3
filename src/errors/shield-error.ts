/**
 * The one base of every error the public API throws: a stable `code` to branch on, a message
 * in one style (`[account-shield CODE] What is wrong. Fix: what to do.`) and the `fix` on its
 * own, so a log line and a start-up crash both say how to recover.
 */
export abstract class ShieldError extends Error {
  abstract override readonly name: string;
  readonly code: string;
  /** How to fix it, one sentence. */
  readonly fix: string;

  constructor(code: string, problem: string, fix: string, options?: { cause?: unknown }) {
    super(`[account-shield ${code}] ${sentence(problem)} Fix: ${sentence(fix)}`, options);
    this.code = code;
    this.fix = sentence(fix);
  }
}

/** A sentence with its full stop, whatever the caller wrote (its first word may be a name: left as is). */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * Misconfiguration is caught when the shield or a route is created, with a stable code and a
 * sentence that says how to fix it, rather than surfacing as odd behaviour under attack.
 */
export type ShieldConfigErrorCode =
  | 'UNKNOWN_OPTION'
  | 'INVALID_TYPE'
  | 'INVALID_VALUE'
  | 'MISSING_SECRET'
  | 'WEAK_SECRET'
  | 'TRUST_PROXY_TRUE'
  | 'MISSING_CALLBACK';

export class ShieldConfigError extends ShieldError {
  override readonly name = 'ShieldConfigError';
  declare readonly code: ShieldConfigErrorCode;

  constructor(code: ShieldConfigErrorCode, problem: string, fix: string) {
    super(code, problem, fix);
  }
}

/**
 * A public method was called with an argument it cannot use (an empty user id for the lock
 * API, a negative duration). Thrown synchronously, before anything is written.
 */
export type ShieldArgumentErrorCode = 'INVALID_ARGUMENT';

export class ShieldArgumentError extends ShieldError {
  override readonly name = 'ShieldArgumentError';
  declare readonly code: ShieldArgumentErrorCode;

  constructor(problem: string, fix: string) {
    super('INVALID_ARGUMENT', problem, fix);
  }
}
