import { flatCopy } from './counter-table.js';
import { StripeVersions, stripeOf } from './read-notes.js';

/**
 * Plain keys of the embedded store (challenges, known devices, cached flags, holds), bounded
 * and timer-free: expiry is checked on access and by an incremental sweep.
 *
 * Three classes, so that what an attacker can mint never pushes out what it cannot:
 * - pinned keys (withdrawal holds) are never evicted — a hold lost is a lock lost;
 * - volatile keys (challenges and their attempt counts, minted by any failed login) are
 *   evicted first, oldest first; losing a live one means its user is asked again, never a
 *   bypass, and an attempt count is always younger than its challenge, so it goes second;
 * - everything else is evicted oldest first only when volatile keys are gone.
 */
export interface ValueTableOptions {
  /** Cap on volatile + regular keys. */
  readonly maxKeys: number;
  readonly now: () => number;
  readonly isPinned: (key: string) => boolean;
  readonly isVolatile: (key: string) => boolean;
}

interface Entry {
  value: string;
  readonly expiresAt: number;
  /** Its key's stripe (see read-notes.ts), from the table's own flat copy of the key. */
  readonly stripe: number;
}

export class ValueTable {
  private readonly pinned = new Map<string, Entry>();
  private readonly volatile = new Map<string, Entry>();
  private readonly regular = new Map<string, Entry>();
  private sweepCursor: Iterator<[string, Entry]> | undefined;
  /**
   * Where eviction stopped in each map. A fresh `keys()` iterator walks over every entry
   * deleted since the map last compacted, so starting one per eviction costs ~100 µs per
   * eviction at 200,000 keys; a kept iterator resumes in insertion order for ~nothing.
   */
  private readonly evictCursors = new Map<Map<string, Entry>, Iterator<string>>();
  private sweepMap = 0;
  /** Bumped on every change to a key (see read-notes.ts). */
  private readonly versions = new StripeVersions();
  /** Keys evicted to make room since the table was created. */
  evictions = 0;

  constructor(private readonly options: ValueTableOptions) {}

  get size(): number {
    return this.pinned.size + this.volatile.size + this.regular.size;
  }

  /** `now`: a clock reading the caller already took (a store reads many keys at one instant). */
  get(key: string, now?: number): string | undefined {
    return this.liveEntry(key, now)?.value;
  }

  /**
   * What a note (`notes` from `at`, `strings[j]`) says of its key while it still holds: its
   * value, or undefined when it noted none; null when the note is stale or the key expired
   * since (then only a lookup can tell). The note belongs to one key, which it does not need.
   */
  noted(notes: number[], at: number, strings: (string | undefined)[], j: number, now: number): string | undefined | null {
    if (notes[at + 1] !== this.versions.of(notes[at] as number)) return null;
    const value = strings[j];
    if (value === undefined) return undefined;
    if ((notes[at + 2] as number) > now) return value;
    // Expired: looked up, so the table drops it as any read would.
    return null;
  }

  /**
   * `get`, noting what it found in `notes` from `at` and `strings[j]` (read-notes.ts's layout,
   * updated in place) for `noted` to answer the next read of this key with. The caller asks
   * `noted` first: this is the lookup for a note that no longer holds.
   */
  getAndNote(key: string, now: number, notes: number[], at: number, strings: (string | undefined)[], j: number): string | undefined {
    const entry = this.liveEntry(key, now);
    // After the lookup, which may have removed an expired key (a change of its own).
    const stripe = entry === undefined ? stripeOf(key, 0) : entry.stripe;
    notes[at] = stripe;
    notes[at + 1] = this.versions.of(stripe);
    notes[at + 2] = entry === undefined ? 0 : entry.expiresAt;
    strings[j] = entry?.value;
    return entry?.value;
  }

  set(key: string, value: string, ttlMs: number): void {
    const map = this.mapFor(key);
    this.drop(map, key); // re-insert so eviction order follows the latest write
    // Characters are read from the flat copy: the caller's key is often a concatenation.
    const own = flatCopy(key);
    const stripe = stripeOf(own, 0);
    map.set(own, { value, expiresAt: this.options.now() + ttlMs, stripe });
    this.versions.bump(stripe);
    this.evictIfFull(key);
  }

  delete(key: string): boolean {
    const existed = this.get(key) !== undefined;
    this.drop(this.mapFor(key), key);
    return existed;
  }

  /** A plain counter: created at 1 with its TTL, which later increments never extend. */
  increment(key: string, ttlMs: number): number {
    const entry = this.liveEntry(key);
    if (entry) {
      const next = Number(entry.value) + 1;
      entry.value = String(next);
      this.versions.bump(entry.stripe);
      return next;
    }
    this.set(key, '1', ttlMs);
    return 1;
  }

  /** Drop expired keys among the next `budget` entries, resuming where the last sweep stopped. */
  sweep(budget: number): void {
    const maps = [this.volatile, this.regular, this.pinned];
    const now = this.options.now();
    for (let seen = 0; seen < budget; seen++) {
      this.sweepCursor ??= (maps[this.sweepMap] as Map<string, Entry>).entries();
      const next = this.sweepCursor.next();
      if (next.done) {
        this.sweepCursor = undefined;
        this.sweepMap = (this.sweepMap + 1) % maps.length;
        if (this.sweepMap === 0) return; // one full pass per call at most
        continue;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt <= now) this.drop(maps[this.sweepMap] as Map<string, Entry>, key, entry);
    }
  }

  private liveEntry(key: string, now = this.options.now()): Entry | undefined {
    const map = this.mapFor(key);
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry;
    this.drop(map, key, entry);
    return undefined;
  }

  /**
   * Every removal goes through here, so notes of the key go stale (see read-notes.ts). A caller
   * that already holds the key's entry passes it: no second lookup.
   */
  private drop(map: Map<string, Entry>, key: string, entry: Entry | undefined = map.get(key)): void {
    if (entry === undefined) return;
    map.delete(key);
    this.versions.bump(entry.stripe);
  }

  private mapFor(key: string): Map<string, Entry> {
    if (this.options.isPinned(key)) return this.pinned;
    return this.options.isVolatile(key) ? this.volatile : this.regular;
  }

  /** Evict oldest first, volatile before regular, never the key just written. */
  private evictIfFull(written: string): void {
    while (this.volatile.size + this.regular.size > this.options.maxKeys) {
      if (!(this.evictOldest(this.volatile, written) || this.evictOldest(this.regular, written))) return;
      this.evictions++;
    }
  }

  private evictOldest(map: Map<string, Entry>, keep: string): boolean {
    if (map.size === 0 || (map.size === 1 && map.has(keep))) return false;
    for (;;) {
      const cursor = this.evictCursors.get(map) ?? map.keys();
      this.evictCursors.set(map, cursor);
      for (let next = cursor.next(); !next.done; next = cursor.next()) {
        if (next.value === keep) continue;
        this.drop(map, next.value);
        return true;
      }
      // Past the newest entry: start over from what is now the oldest.
      this.evictCursors.delete(map);
    }
  }
}
