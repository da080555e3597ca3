/**
 * Local breached-password corpus: built from a Have I Been Pwned style dump (`SHA1:COUNT`
 * lines) into the same filter file format as the leak corpus. Each SHA-1 is keyed again with
 * HMAC under the shield secret, so the file is not a plain hash list anyone could query.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type BuildProgress, type BuildSummary, buildCorpus } from '../corpus/corpus-builder.js';
import { decodeCorpus } from '../corpus/corpus-file.js';
import { describeFsError, LeakCorpusError } from '../corpus/errors.js';
import type { BinaryFuseFilter, FingerprintBits } from '../corpus/filter-binary-fuse.js';
import { KeyedHasher, type Secret } from '../corpus/keyed-hash.js';
import type { BreachedPasswordSource } from './source.js';

const HIBP_LINE = /^([0-9A-Fa-f]{40})(?::(\d+))?$/;

/**
 * The SHA-1 bytes of a HIBP line, `null` for a malformed line, `undefined` for a blank line or
 * one seen fewer than `minCount` times. Never returns the line's text.
 */
export function parseHibpLine(line: string, minCount = 1): Buffer | null | undefined {
  const text = line.trim();
  if (text.length === 0) return undefined;
  const match = HIBP_LINE.exec(text);
  if (match === null) return null;
  // A line without a count (a bare hash list) is taken as breached.
  if (match[2] !== undefined && Number(match[2]) < minCount) return undefined;
  return Buffer.from(match[1]!, 'hex');
}

/** What the filter is keyed on: the password's SHA-1, as in the HIBP dumps. */
export function passwordSha1(password: string): Buffer {
  return createHash('sha1').update(password, 'utf8').digest();
}

export interface PasswordCorpusBuildOptions {
  readonly inputs: readonly string[];
  readonly out: string;
  readonly secret: Secret;
  /** Leave out hashes seen fewer times than this (HIBP counts). Default 1 (keep all). */
  readonly minCount?: number;
  readonly fingerprintBits?: FingerprintBits;
  readonly onProgress?: (progress: BuildProgress) => void;
  readonly stdin?: Readable;
}

export interface PasswordCorpusBuildSummary extends BuildSummary {
  /** Valid lines left out by `minCount`. */
  readonly belowMinCount: number;
}

export async function buildBreachedPasswordCorpus(
  options: PasswordCorpusBuildOptions,
): Promise<PasswordCorpusBuildSummary> {
  const minCount = options.minCount ?? 1;
  if (!Number.isSafeInteger(minCount) || minCount < 1) {
    throw new LeakCorpusError('CORPUS_INPUT', `min count must be a positive integer, got ${minCount}`);
  }
  let belowMinCount = 0;
  const summary = await buildCorpus({
    kind: 'passwords',
    hasher: new KeyedHasher(options.secret, 'breached-passwords'),
    inputs: options.inputs,
    out: options.out,
    fingerprintBits: options.fingerprintBits,
    onProgress: options.onProgress,
    stdin: options.stdin,
    readerFor: () => (line) => {
      const sha1 = parseHibpLine(line, minCount);
      if (sha1 === undefined && parseHibpLine(line) !== undefined) belowMinCount++;
      return sha1;
    },
  });
  return { ...summary, belowMinCount };
}

export interface BreachedPasswordCorpusStats {
  readonly count: number;
  readonly bitsPerPassword: number;
  readonly expectedFalsePositiveRate: number;
  readonly builtAt: number;
}

export class LocalBreachedPasswords implements BreachedPasswordSource {
  readonly stats: BreachedPasswordCorpusStats;
  readonly #filter: BinaryFuseFilter;
  readonly #hasher: KeyedHasher;

  constructor(filter: BinaryFuseFilter, hasher: KeyedHasher, stats: BreachedPasswordCorpusStats) {
    this.#filter = filter;
    this.#hasher = hasher;
    this.stats = stats;
  }

  /** Synchronous answer; the filter is in memory. */
  has(password: string): boolean {
    const digest = this.#hasher.digest(passwordSha1(password));
    return this.#filter.contains(digest.readUInt32LE(0), digest.readUInt32LE(4));
  }

  isBreached(password: string): Promise<boolean> {
    return Promise.resolve(this.has(password));
  }
}

/** Loads a corpus built by `account-shield passwords build`. Rejects with `LeakCorpusError`. */
export async function loadBreachedPasswords(path: string, options: { secret: Secret }): Promise<LocalBreachedPasswords> {
  const hasher = new KeyedHasher(options.secret, 'breached-passwords');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new LeakCorpusError('CORPUS_READ', `cannot read breached-password file ${path}: ${describeFsError(error)}`, {
      cause: error,
    });
  }
  const corpus = decodeCorpus(bytes, { kind: 'passwords', keyId: hasher.keyId, source: path });
  return new LocalBreachedPasswords(corpus.filter, hasher, {
    count: corpus.header.count,
    bitsPerPassword: corpus.bitsPerMember,
    expectedFalsePositiveRate: corpus.filter.expectedFalsePositiveRate,
    builtAt: corpus.header.builtAt.getTime(),
  });
}
