/**
 * Streams dump files into a corpus file. Memory is bounded by the distinct members, not by
 * the input: 8 bytes per distinct 64-bit keyed hash in one typed array (de-duplicated in
 * place whenever it fills), plus ~ 25 bytes per member of typed-array work space while the
 * filter is constructed. That is 0.8 GB of keys and ~ 3.3 GB at the peak for 10^8
 * addresses, acceptable for an offline build; a binary fuse filter cannot be built from
 * less than all of its keys.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type CorpusKind, HEADER_SIZE, writeCorpusFile } from './corpus-file.js';
import { describeFsError, LeakCorpusError } from './errors.js';
import { BinaryFuseFilter, type FingerprintBits, sortUnique } from './filter-binary-fuse.js';
import { readLines } from './input-lines.js';
import type { KeyedHasher } from './keyed-hash.js';

/** Key material for one line: bytes to hash, `null` for an invalid record, `undefined` for a non-record. */
export type KeyMaterialReader = (line: string) => string | Uint8Array | null | undefined;

export interface BuildProgress {
  readonly phase: 'reading' | 'building' | 'writing' | 'done';
  readonly bytesRead: number;
  /** Sum of the input file sizes; `null` when an input is a pipe. */
  readonly totalBytes: number | null;
  readonly records: number;
  readonly startedAt: number;
}

export interface CorpusBuildSpec {
  readonly kind: CorpusKind;
  readonly hasher: KeyedHasher;
  /** File paths; `-` reads `stdin`. */
  readonly inputs: readonly string[];
  /** A fresh reader per input (a CSV reader remembers its header). */
  readonly readerFor: (input: string) => KeyMaterialReader;
  readonly out: string;
  readonly fingerprintBits?: FingerprintBits;
  readonly onProgress?: (progress: BuildProgress) => void;
  readonly stdin?: Readable;
}

export interface BuildSummary {
  readonly out: string;
  /** Distinct members in the corpus. */
  readonly count: number;
  /** Records that were not valid (bad address, bad hash line, overlong line). */
  readonly skipped: number;
  readonly duplicates: number;
  readonly records: number;
  readonly bytesRead: number;
  readonly fileBytes: number;
  readonly bitsPerMember: number;
  readonly expectedFalsePositiveRate: number;
  readonly elapsedMs: number;
}

/** Checks every input up front so a typo fails in milliseconds, not after an hour of hashing. */
export async function checkInputs(inputs: readonly string[]): Promise<number | null> {
  if (inputs.length === 0) throw new LeakCorpusError('CORPUS_INPUT', 'no input files given');
  let total: number | null = 0;
  for (const input of inputs) {
    if (input === '-') {
      total = null;
      continue;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch (error) {
      throw new LeakCorpusError('CORPUS_READ', `cannot read input ${input}: ${describeFsError(error)}`, {
        cause: error,
      });
    }
    if (!info.isFile()) throw new LeakCorpusError('CORPUS_READ', `cannot read input ${input}: not a regular file`);
    if (total !== null) total += info.size;
  }
  return total;
}

export async function buildCorpus(spec: CorpusBuildSpec): Promise<BuildSummary> {
  const startedAt = Date.now();
  const totalBytes = await checkInputs(spec.inputs);
  const keys = new KeyAccumulator(totalBytes === null ? 1 << 16 : Math.min(totalBytes / 16, 1 << 24));
  let bytesRead = 0;
  let records = 0;
  let skipped = 0;
  const progress = (phase: BuildProgress['phase']): void =>
    spec.onProgress?.({ phase, bytesRead, totalBytes, records, startedAt });

  for (const input of spec.inputs) {
    const read = spec.readerFor(input);
    const source = input === '-' ? (spec.stdin ?? process.stdin) : input;
    try {
      for await (const line of readLines(source, {
        onBytes: (n) => {
          bytesRead += n;
          progress('reading');
        },
      })) {
        const material = line === null ? null : read(line);
        if (material === undefined) continue;
        records++;
        if (material === null) {
          skipped++;
          continue;
        }
        const digest = spec.hasher.digest(material);
        keys.push(digest.readUInt32LE(0), digest.readUInt32LE(4));
      }
    } catch (error) {
      if (error instanceof LeakCorpusError) throw error;
      throw new LeakCorpusError('CORPUS_READ', `cannot read input ${input}: ${describeFsError(error)}`, {
        cause: error,
      });
    }
  }

  progress('building');
  const valid = records - skipped;
  const { filter, uniqueCount } = BinaryFuseFilter.build(keys.array, keys.length, spec.fingerprintBits ?? 8);
  progress('writing');
  try {
    await writeCorpusFile(spec.out, {
      kind: spec.kind,
      filter,
      count: uniqueCount,
      skipped,
      duplicates: valid - uniqueCount,
      keyId: spec.hasher.keyId,
    });
  } catch (error) {
    throw new LeakCorpusError('CORPUS_WRITE', `cannot write ${spec.out}: ${describeFsError(error)}`, { cause: error });
  }
  progress('done');
  const fileBytes = HEADER_SIZE + filter.byteLength;
  return {
    out: spec.out,
    count: uniqueCount,
    skipped,
    duplicates: valid - uniqueCount,
    records,
    bytesRead,
    fileBytes,
    bitsPerMember: uniqueCount === 0 ? 0 : (fileBytes * 8) / uniqueCount,
    expectedFalsePositiveRate: filter.expectedFalsePositiveRate,
    elapsedMs: Date.now() - startedAt,
  };
}

/**
 * A growable array of [lo, hi] 64-bit keys. When full it first drops duplicates in place and
 * grows only if that did not free a quarter of it, so a dump that repeats itself stays small.
 */
export class KeyAccumulator {
  #keys: Uint32Array;
  #length = 0;

  constructor(initialCapacity = 1 << 16) {
    this.#keys = new Uint32Array(2 * Math.max(16, Math.floor(initialCapacity)));
  }

  get length(): number {
    return this.#length;
  }

  /** The backing array; the first `length` pairs are the keys. */
  get array(): Uint32Array {
    return this.#keys;
  }

  push(lo: number, hi: number): void {
    if (2 * this.#length === this.#keys.length) this.#makeRoom();
    this.#keys[2 * this.#length] = lo;
    this.#keys[2 * this.#length + 1] = hi;
    this.#length++;
  }

  #makeRoom(): void {
    const capacity = this.#keys.length / 2;
    this.#length = sortUnique(this.#keys, this.#length);
    if (this.#length <= capacity * 0.75) return;
    const grown = new Uint32Array(2 * Math.ceil(capacity * 1.5));
    grown.set(this.#keys.subarray(0, 2 * this.#length));
    this.#keys = grown;
  }
}
