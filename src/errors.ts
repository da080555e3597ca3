/**
 * Misconfiguration is caught when the shield is created, with a stable code and a sentence
 * that says how to fix it, rather than surfacing as odd behaviour under attack.
 */
export type ShieldConfigErrorCode =
  | 'UNKNOWN_OPTION'
  | 'INVALID_TYPE'
  | 'INVALID_VALUE'
  | 'MISSING_SECRET'
  | 'WEAK_SECRET'
  | 'TRUST_PROXY_TRUE'
  | 'MISSING_CALLBACK';

export class ShieldConfigError extends Error {
  override readonly name = 'ShieldConfigError';
  constructor(
    readonly code: ShieldConfigErrorCode,
    message: string,
    /** How to fix it, one sentence. */
    readonly fix: string,
  ) {
    super(`[account-shield ${code}] ${message} Fix: ${fix}`);
  }
}
