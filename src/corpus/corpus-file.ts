/**
 * The corpus file format: a fixed 128-byte header followed by the filter's fingerprints.
 *
 * ```
 * off size field
 *   0    8 magic "ASCORPUS"
 *   8    2 format version (1)
 *  10    1 kind: 1 leaked addresses, 2 breached passwords
 *  11    1 filter: 1 binary fuse, arity 3
 *  12    1 fingerprint bits (8 | 16)
 *  13    3 reserved, zero
 *  16    8 count: distinct members
 *  24    8 skipped: input records that were not valid
 *  32    8 duplicates: valid records that repeated a member
 *  40    8 built at, ms since the epoch (float64)
 *  48    8 seed (lo, hi uint32)
 *  56    4 segment length
 *  60    4 segment count
 *  64    4 array length (fingerprints)
 *  68    4 reserved, zero
 *  72    8 key id (see keyed-hash.ts)
 *  80    8 payload length in bytes
 *  88   32 SHA-256 of bytes 0..88 followed by the payload
 * 120    8 reserved, zero
 * 128    … fingerprints, little-endian
 * ```
 * All integers little-endian. The checksum covers the header too, so a flipped count or seed
 * is caught, not only a flipped fingerprint.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { LeakCorpusError } from './errors.js';
import { BinaryFuseFilter, type FingerprintBits } from './filter-binary-fuse.js';

export { LeakCorpusError, type LeakCorpusErrorCode } from './errors.js';

export const CORPUS_MAGIC = Buffer.from('ASCORPUS', 'latin1');
export const CORPUS_VERSION = 1;
export const HEADER_SIZE = 128;
const CHECKED_HEADER = 88;
const FILTER_BINARY_FUSE = 1;

export type CorpusKind = 'addresses' | 'passwords';
const KIND_CODES: Record<CorpusKind, number> = { addresses: 1, passwords: 2 };
const KIND_LABELS: Record<CorpusKind, string> = {
  addresses: 'a leaked-address corpus',
  passwords: 'a breached-password corpus',
};

export interface CorpusHeader {
  readonly version: number;
  readonly kind: CorpusKind;
  readonly fingerprintBits: FingerprintBits;
  readonly count: number;
  readonly skipped: number;
  readonly duplicates: number;
  readonly builtAt: Date;
  readonly keyId: Buffer;
  readonly payloadLength: number;
}

export interface Corpus {
  readonly header: CorpusHeader;
  readonly filter: BinaryFuseFilter;
  /** Fingerprint bits per member, including the header. */
  readonly bitsPerMember: number;
}

export interface CorpusContents {
  readonly kind: CorpusKind;
  readonly filter: BinaryFuseFilter;
  readonly count: number;
  readonly skipped: number;
  readonly duplicates: number;
  readonly keyId: Buffer;
  readonly builtAt?: Date;
}

/** True when `bytes` starts like a corpus file (used to tell a corpus from a plain list). */
export function looksLikeCorpus(bytes: Uint8Array): boolean {
  return bytes.length >= CORPUS_MAGIC.length && CORPUS_MAGIC.equals(bytes.subarray(0, CORPUS_MAGIC.length));
}

/** Header and payload as two buffers (the payload is a view on the filter, not a copy). */
export function encodeCorpus(contents: CorpusContents): [Buffer, Buffer] {
  const { filter } = contents;
  const params = filter.params;
  if (contents.keyId.length !== 8) throw new LeakCorpusError('CORPUS_WRITE', 'key id must be 8 bytes');
  let payload = Buffer.from(filter.fingerprints.buffer, filter.fingerprints.byteOffset, filter.fingerprints.byteLength);
  if (params.fingerprintBits === 16 && endianness() === 'BE') payload = Buffer.from(payload).swap16();
  const header = Buffer.alloc(HEADER_SIZE);
  CORPUS_MAGIC.copy(header, 0);
  header.writeUInt16LE(CORPUS_VERSION, 8);
  header.writeUInt8(KIND_CODES[contents.kind], 10);
  header.writeUInt8(FILTER_BINARY_FUSE, 11);
  header.writeUInt8(params.fingerprintBits, 12);
  header.writeBigUInt64LE(BigInt(contents.count), 16);
  header.writeBigUInt64LE(BigInt(contents.skipped), 24);
  header.writeBigUInt64LE(BigInt(contents.duplicates), 32);
  header.writeDoubleLE((contents.builtAt ?? new Date()).getTime(), 40);
  header.writeUInt32LE(params.seedLo, 48);
  header.writeUInt32LE(params.seedHi, 52);
  header.writeUInt32LE(params.segmentLength, 56);
  header.writeUInt32LE(params.segmentCount, 60);
  header.writeUInt32LE(params.arrayLength, 64);
  contents.keyId.copy(header, 72);
  header.writeBigUInt64LE(BigInt(payload.length), 80);
  createHash('sha256').update(header.subarray(0, CHECKED_HEADER)).update(payload).digest().copy(header, CHECKED_HEADER);
  return [header, payload];
}

/**
 * Writes the corpus next to `path` and renames it into place, so a reader (or a hot reload
 * triggered half-way) only ever sees the old file or the complete new one.
 */
export async function writeCorpusFile(path: string, contents: CorpusContents): Promise<void> {
  const [header, payload] = encodeCorpus(contents);
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temporary, 'wx', 0o644);
  try {
    await handle.writev([header, payload]);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export interface DecodeExpectation {
  /** Refuse a file of the other kind (a password corpus given as a leak list). */
  readonly kind?: CorpusKind;
  /** Refuse a file built under another key. Omit only to describe a file (`info`). */
  readonly keyId?: Buffer;
  /** Named in error messages. */
  readonly source?: string;
}

/**
 * Validates and opens a corpus held in one buffer. The filter views `bytes` directly (no copy)
 * unless a 16-bit payload is misaligned. Throws `LeakCorpusError`.
 */
export function decodeCorpus(bytes: Buffer, expect: DecodeExpectation = {}): Corpus {
  const name = expect.source ?? 'corpus';
  const fail = (code: ConstructorParameters<typeof LeakCorpusError>[0], why: string): never => {
    throw new LeakCorpusError(code, `${name}: ${why}`);
  };

  const magicLength = Math.min(bytes.length, CORPUS_MAGIC.length);
  if (!CORPUS_MAGIC.subarray(0, magicLength).equals(bytes.subarray(0, magicLength))) {
    fail('CORPUS_BAD_MAGIC', 'not an account-shield corpus file (bad magic)');
  }
  if (bytes.length < HEADER_SIZE) {
    fail('CORPUS_TRUNCATED', `truncated: ${bytes.length} bytes, the header alone is ${HEADER_SIZE}`);
  }
  const version = bytes.readUInt16LE(8);
  if (version !== CORPUS_VERSION) {
    fail('CORPUS_VERSION', `format version ${version} is not supported (this build reads version ${CORPUS_VERSION})`);
  }
  const payloadLength = Number(bytes.readBigUInt64LE(80));
  const expectedLength = HEADER_SIZE + payloadLength;
  if (bytes.length < expectedLength) {
    fail('CORPUS_TRUNCATED', `truncated: ${bytes.length} bytes, the header declares ${expectedLength}`);
  }
  if (bytes.length > expectedLength) {
    fail('CORPUS_CORRUPT', `${bytes.length - expectedLength} unexpected bytes after the payload`);
  }
  const payload = bytes.subarray(HEADER_SIZE);
  const checksum = createHash('sha256').update(bytes.subarray(0, CHECKED_HEADER)).update(payload).digest();
  if (!checksum.equals(bytes.subarray(CHECKED_HEADER, CHECKED_HEADER + 32))) {
    fail('CORPUS_CHECKSUM', 'checksum mismatch: the file is corrupted');
  }

  const kindCode = bytes.readUInt8(10);
  const kind = (Object.keys(KIND_CODES) as CorpusKind[]).find((k) => KIND_CODES[k] === kindCode);
  if (kind === undefined) return fail('CORPUS_CORRUPT', `unknown corpus kind ${kindCode}`);
  if (expect.kind !== undefined && kind !== expect.kind) {
    fail('CORPUS_KIND', `is ${KIND_LABELS[kind]}, expected ${KIND_LABELS[expect.kind]}`);
  }
  if (bytes.readUInt8(11) !== FILTER_BINARY_FUSE) fail('CORPUS_CORRUPT', `unknown filter type ${bytes.readUInt8(11)}`);
  const bits = bytes.readUInt8(12);
  if (bits !== 8 && bits !== 16) return fail('CORPUS_CORRUPT', `unsupported fingerprint size ${bits}`);
  const keyId = Buffer.from(bytes.subarray(72, 80));
  if (expect.keyId !== undefined && !keyId.equals(expect.keyId)) {
    fail('CORPUS_WRONG_KEY', 'built under a different key (SHIELD_SECRET / --secret-file) than the one given');
  }

  const arrayLength = bytes.readUInt32LE(64);
  if (payloadLength !== arrayLength * (bits / 8)) {
    fail('CORPUS_CORRUPT', `payload of ${payloadLength} bytes does not hold ${arrayLength} fingerprints`);
  }
  let filter: BinaryFuseFilter;
  try {
    filter = new BinaryFuseFilter(
      {
        fingerprintBits: bits,
        seedLo: bytes.readUInt32LE(48),
        seedHi: bytes.readUInt32LE(52),
        segmentLength: bytes.readUInt32LE(56),
        segmentCount: bytes.readUInt32LE(60),
        arrayLength,
      },
      fingerprintView(payload, bits),
    );
  } catch (error) {
    return fail('CORPUS_CORRUPT', (error as Error).message);
  }
  const count = Number(bytes.readBigUInt64LE(16));
  const header: CorpusHeader = {
    version,
    kind,
    fingerprintBits: bits,
    count,
    skipped: Number(bytes.readBigUInt64LE(24)),
    duplicates: Number(bytes.readBigUInt64LE(32)),
    builtAt: new Date(bytes.readDoubleLE(40)),
    keyId,
    payloadLength,
  };
  return { header, filter, bitsPerMember: count === 0 ? 0 : (bytes.length * 8) / count };
}

function fingerprintView(payload: Buffer, bits: 8 | 16): Uint8Array | Uint16Array {
  if (bits === 8) return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
  let source = payload;
  // Uint16Array needs an even offset; a big-endian host needs the bytes swapped. Either way
  // it is one copy of the payload, still no per-member objects.
  if (payload.byteOffset % 2 !== 0 || endianness() === 'BE') {
    source = Buffer.alloc(payload.length);
    payload.copy(source);
    if (endianness() === 'BE') source.swap16();
  }
  return new Uint16Array(source.buffer, source.byteOffset, source.length / 2);
}
