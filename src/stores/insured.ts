import type { Store } from './store.js';

export interface InsuranceOptions {
  /** After a failure, how long to stay on the insurance store before probing the primary. */
  probeAfterMs?: number;
  now?: () => number;
  onFailure?: (error: unknown) => void;
  onRecovery?: () => void;
}

/**
 * Login protection may fail open, but not to "no limits": while the shared store is down,
 * counters and challenges live in an in-process insurance store (rate-limiter-flexible's
 * insurance-limiter idea). A failed call trips a breaker so a paused Redis costs one command
 * timeout per `probeAfterMs`, not one per request. Withdrawal locks never go through this.
 */
export class Insured {
  private downUntil = 0;
  private down = false;
  private readonly probeAfterMs: number;
  private readonly now: () => number;

  constructor(
    readonly primary: Store,
    readonly insurance: Store,
    private readonly options: InsuranceOptions = {},
  ) {
    this.probeAfterMs = options.probeAfterMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** True while requests are being served from the insurance store. */
  get degraded(): boolean {
    return this.down;
  }

  /**
   * Run `fn` against the primary store, or against the insurance store when the primary is
   * (or just turned out to be) unavailable. Resolves with the result and which store served it.
   */
  async run<T>(fn: (store: Store) => Promise<T>): Promise<{ value: T; degraded: boolean }> {
    if (this.primary === this.insurance || this.now() >= this.downUntil) {
      try {
        const value = await fn(this.primary);
        if (this.down) {
          this.down = false;
          this.options.onRecovery?.();
        }
        return { value, degraded: false };
      } catch (error) {
        if (this.primary === this.insurance) throw error;
        this.down = true;
        this.downUntil = this.now() + this.probeAfterMs;
        this.options.onFailure?.(error);
      }
    }
    return { value: await fn(this.insurance), degraded: true };
  }
}
