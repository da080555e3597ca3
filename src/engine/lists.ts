import { MemoCache } from '../identity/memo-cache.js';
import type { LeakedAddressSource } from '../leaks/source.js';
import { isCommonPassword } from '../passwords/common.js';
import type { BreachedPasswordSource } from '../passwords/source.js';

const MAX_ADDRESS_LENGTH = 320;

/**
 * The lists an attempt is checked against: known-leaked addresses and listed (common or
 * breached) passwords. Local lookups only, memoised where the same users come back; a list that
 * throws counts as "not listed" rather than failing the login.
 */
export class Lists {
  leaks: LeakedAddressSource | undefined;
  private readonly leakMemo = new MemoCache<boolean>(50_000);
  private leakMemoSource: LeakedAddressSource | undefined;
  private leakMemoStats: unknown;

  constructor(readonly breached: BreachedPasswordSource | undefined) {}

  isLeaked(address: string): boolean {
    const leaks = this.leaks;
    if (!leaks) return false;
    // A reload swaps the data under the same source: the memo is only valid for one load.
    if (leaks !== this.leakMemoSource || leaks.stats !== this.leakMemoStats) {
      this.leakMemo.clear();
      this.leakMemoSource = leaks;
      this.leakMemoStats = leaks.stats;
    }
    const bounded = address.slice(0, MAX_ADDRESS_LENGTH);
    return this.leakMemo.get(bounded, () => {
      try {
        return leaks.has(bounded);
      } catch {
        return false;
      }
    });
  }

  /**
   * A common password (zxcvbn's list) or one in a local breach corpus. Never a network lookup
   * and never zxcvbn: this runs on every attempt, the attacker's included.
   */
  isListedPassword(password: string): boolean {
    if (isCommonPassword(password)) return true;
    try {
      return this.breached?.has?.(password) === true;
    } catch {
      return false;
    }
  }

  /** Whether a password is breached, asking every source (network ones included); errors say no. */
  async isBreached(password: string): Promise<boolean> {
    return this.breached ? this.breached.isBreached(password).catch(() => false) : false;
  }

  close(): void {
    this.leaks?.close();
  }
}
