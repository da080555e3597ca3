import type { Request } from 'express';
import { ShieldConfigError } from '../errors/shield-error.js';
import { validateOptions } from '../config/schema.js';

/** Options of `shield.console()`, the operator console router. */
export interface ConsoleOptions {
  /** Minutes the counts, top sources and attacked accounts cover. Default 15, at most 180. */
  windowMinutes?: number;
  /** Recent decisions kept for the live list. Default 200, at most 5000. */
  maxDecisions?: number;
  /**
   * Who is unlocking, recorded in the `withdrawals.unlocked` event (the audit trail). Default
   * `operator console`; pass the name your admin authentication established.
   */
  actor?: (req: Request) => string;
  /** Milliseconds between the page's refreshes. Default 2000. */
  pollMs?: number;
}

export interface ResolvedConsoleOptions {
  readonly windowMinutes: number;
  readonly maxDecisions: number;
  readonly actor: (req: Request) => string;
  readonly pollMs: number;
}

export function resolveConsoleOptions(options: ConsoleOptions = {}): ResolvedConsoleOptions {
  validateOptions(
    options,
    { windowMinutes: 'integer', maxDecisions: 'integer', actor: 'function', pollMs: 'integer' },
    'console options',
  );
  const resolved = {
    windowMinutes: options.windowMinutes ?? 15,
    maxDecisions: options.maxDecisions ?? 200,
    actor: options.actor ?? (() => 'operator console'),
    pollMs: options.pollMs ?? 2000,
  };
  inRange('windowMinutes', resolved.windowMinutes, 1, 180);
  inRange('maxDecisions', resolved.maxDecisions, 1, 5000);
  inRange('pollMs', resolved.pollMs, 250, 60_000);
  return resolved;
}

function inRange(name: string, value: number, min: number, max: number): void {
  if (value < min || value > max) {
    throw new ShieldConfigError('INVALID_VALUE', `console options.${name} is ${value}.`, `Use an integer from ${min} to ${max}.`);
  }
}
