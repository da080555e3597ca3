/**
 * Notes of what a read found, for a request read again and again (a returning device's kept
 * read, see `ReadRequest.hints`), so the embedded store can answer it without a lookup.
 *
 * In a server's large heap every lookup is a few cache misses (the key's hash, the bucket, the
 * entry, the key compared), and a returning user's login made four of them. A note keeps the
 * answer itself, with the version of its stripe: each table counts the writes to each of
 * STRIPES stripes of its keys (a small array that stays in cache), and bumps a key's stripe on
 * every change to it — a write, an increment, a removal for any reason. While the stripe's
 * count is the one noted, nothing changed that key, so the noted answer is still the answer
 * (an expiry is checked against the noted time, as a lookup would). A note can only save a
 * lookup, never change what a read says; a stale one is simply read again.
 */

/**
 * Stripes per table: 65,536 counts (256 KB). A note goes stale when anything in its stripe is
 * written, so the share of notes other keys' writes spoil is about writes per second × time
 * between a device's reads ÷ STRIPES. In the throughput bench (a failed login in ten at ~4,500
 * logins a second, each device back every ~2 s) 36 % of returning devices' counter notes were
 * stale at 16,384 stripes, 25 % at 65,536, most of those by the device's own failures.
 */
export const STRIPES = 1 << 16;
const MASK = STRIPES - 1;

/**
 * A key's stripe. Keys end in keyed ids (base64url of an HMAC), so four characters near the
 * end carry 24 random bits without reading the whole key; they are mixed with the length and
 * `salt` (which tells apart counter families that count the same key) by two multiplications,
 * which spread them over every stripe as evenly as chance would. Keys alike at those places
 * only share a stripe: more notes go stale, nothing reads wrong. The tables work it out once
 * per entry, from their own flat copy of the key: reading characters of a concatenated key
 * flattens it, a copy per call.
 */
export function stripeOf(key: string, salt: number): number {
  const n = key.length;
  // charCodeAt past either end is NaN, which `| 0` makes 0: short keys still get a stripe.
  const tail = (key.charCodeAt(n - 2) | 0) | ((key.charCodeAt(n - 3) | 0) << 8) | ((key.charCodeAt(n - 4) | 0) << 16) | ((key.charCodeAt(n - 5) | 0) << 24);
  return (Math.imul(tail ^ Math.imul(n * 31 + salt * 131 + 1, 0x85ebca6b), 0x9e3779b1) >>> 16) & MASK;
}

/**
 * Where the notes of one read live: the numbers of each counter's note (stripe, version,
 * consumed or -1 when there was none, expiry) and then of each key's (stripe, version, expiry)
 * in one array of numbers, and each key's noted value in an array of strings (undefined:
 * none). A version of -1 is no note: no count is. Measured over 20,000 kept reads: ~0.3 KB for
 * a known device's read and ~0.6 KB for a whole one, where an object per note took 0.7 and 1.4
 * KB, and a Float64Array 0.4 and 0.7 (with an ArrayBuffer each for the collector to track).
 */
export const COUNTER_NOTE = 4;
export const VALUE_NOTE = 3;

/** Blank notes for a read of `counters` counters and `keys` keys. */
export function blankNotes(counters: number, keys: number): { numbers: number[]; strings: (string | undefined)[] } {
  // Every field -1: what matters is the versions, and -1 is no note. (The other fields are
  // written before a note is ever trusted.)
  const numbers = new Array<number>(counters * COUNTER_NOTE + keys * VALUE_NOTE).fill(-1);
  return { numbers, strings: new Array<string | undefined>(keys).fill(undefined) };
}

/** Each table's write counts, one per stripe. */
export class StripeVersions {
  private readonly counts = new Uint32Array(STRIPES);

  /** Called on every change to a key in the stripe. Wraps after 2³² writes to one stripe. */
  bump(stripe: number): void {
    this.counts[stripe] = ((this.counts[stripe] as number) + 1) >>> 0;
  }

  of(stripe: number): number {
    return this.counts[stripe] as number;
  }
}
