/**
 * The small-list path: a plain text list (one address a line, e.g. the 30,000 addresses of
 * one mis-addressed mail) held as a Set of keyed digests. Exact (no false positives) and
 * fine up to ~10^6 lines; beyond that build a corpus file, which costs ~9 bits an address
 * instead of ~100 bytes.
 */
import type { Readable } from 'node:stream';
import { readLines } from '../corpus/input-lines.js';
import { createRecordReader } from '../corpus/input-records.js';
import type { KeyedHasher } from '../corpus/keyed-hash.js';
import { normaliseAddress } from './normalise.js';

const readText = createRecordReader('text');

export class AddressSet {
  readonly #digests = new Set<string>();
  readonly #hasher: KeyedHasher;
  /** Records that were not valid addresses. */
  skipped = 0;
  /** Valid records that repeated an address already in the set. */
  duplicates = 0;

  constructor(hasher: KeyedHasher) {
    this.#hasher = hasher;
  }

  get size(): number {
    return this.#digests.size;
  }

  /** Adds one line of a list (a combolist line keeps only its address). */
  addLine(line: string | null): void {
    const raw = line === null ? null : readText(line);
    if (raw === undefined) return;
    const address = raw === null ? null : normaliseAddress(raw);
    if (address === null) {
      this.skipped++;
      return;
    }
    const before = this.#digests.size;
    this.#digests.add(this.#hasher.digest(address).toString('base64'));
    if (this.#digests.size === before) this.duplicates++;
  }

  /** `digest` is the keyed digest of a normalised address (the hasher's `digest`). */
  hasDigest(digest: Buffer): boolean {
    return this.#digests.has(digest.toString('base64'));
  }
}

export function addressSetFromIterable(addresses: Iterable<string>, hasher: KeyedHasher): AddressSet {
  const set = new AddressSet(hasher);
  for (const line of addresses) set.addLine(line);
  return set;
}

export async function loadAddressList(input: string | Readable, hasher: KeyedHasher): Promise<AddressSet> {
  const set = new AddressSet(hasher);
  for await (const line of readLines(input)) set.addLine(line);
  return set;
}
