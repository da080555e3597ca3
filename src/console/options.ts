import type { Request } from 'express';
import { fn, type Input, number, type Output, resolveShape } from '../config/schema.js';

/** Options of `shield.console()`, the operator console router, declared once. */
export const consoleShape = {
  /** Minutes the counts, top sources and attacked accounts cover. Default 15, at most 180. */
  windowMinutes: number({ integer: true, min: 1, max: 180 }).default(15),
  /** Recent decisions kept for the live list. Default 200, at most 5000. */
  maxDecisions: number({ integer: true, min: 1, max: 5000 }).default(200),
  /**
   * Who is unlocking, recorded in the `withdrawals.unlocked` event (the audit trail). Default
   * `operator console`; pass the name your admin authentication established.
   */
  actor: fn<(req: Request) => string>().default(() => 'operator console'),
  /** Milliseconds between the page's refreshes. Default 2000. */
  pollMs: number({ integer: true, min: 250, max: 60_000 }).default(2000),
};

export type ConsoleOptions = Input<typeof consoleShape>;
export type ResolvedConsoleOptions = Readonly<Output<typeof consoleShape>>;

export function resolveConsoleOptions(options: ConsoleOptions = {}): ResolvedConsoleOptions {
  return resolveShape(consoleShape, options, 'console options');
}
