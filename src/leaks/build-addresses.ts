/**
 * `account-shield leaks build`: dump files (plain lists, combolists, CSV) → leaked-address
 * corpus. Each line is reduced to its address, normalised, then keyed; nothing else of the
 * line is kept.
 */
import type { Readable } from 'node:stream';
import { type BuildProgress, type BuildSummary, buildCorpus } from '../corpus/corpus-builder.js';
import type { FingerprintBits } from '../corpus/filter-binary-fuse.js';
import { createRecordReader, type InputFormat, resolveFormat } from '../corpus/input-records.js';
import { KeyedHasher, type Secret } from '../corpus/keyed-hash.js';
import { normaliseAddress } from './normalise.js';

export interface LeakCorpusBuildOptions {
  readonly inputs: readonly string[];
  readonly out: string;
  readonly secret: Secret;
  readonly format?: InputFormat;
  readonly fingerprintBits?: FingerprintBits;
  readonly onProgress?: (progress: BuildProgress) => void;
  readonly stdin?: Readable;
}

export function buildLeakCorpus(options: LeakCorpusBuildOptions): Promise<BuildSummary> {
  const format = options.format ?? 'auto';
  return buildCorpus({
    kind: 'addresses',
    hasher: new KeyedHasher(options.secret, 'leaked-addresses'),
    inputs: options.inputs,
    out: options.out,
    fingerprintBits: options.fingerprintBits,
    onProgress: options.onProgress,
    stdin: options.stdin,
    readerFor: (input) => {
      const record = createRecordReader(resolveFormat(format, input), input);
      return (line) => {
        const raw = record(line);
        return raw == null ? raw : normaliseAddress(raw);
      };
    },
  });
}
