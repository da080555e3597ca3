import { describe, expect, it } from 'vitest';
import { type CorpusKind, decodeCorpus, encodeCorpus, HEADER_SIZE } from '../../src/corpus/corpus-file.js';
import { LeakCorpusError } from '../../src/corpus/errors.js';
import { BinaryFuseFilter, type FingerprintBits } from '../../src/corpus/filter-binary-fuse.js';
import { KeyedHasher } from '../../src/corpus/keyed-hash.js';

const hasher = new KeyedHasher('corpus test secret', 'leaked-addresses');
const addresses = Array.from({ length: 20_000 }, (_, i) => `member${i}@example.com`);

const built = new Map<string, Buffer>();

/** A fresh copy each call (tests flip bytes in it); the filter is built once per variant. */
function corpusBytes(bits: FingerprintBits = 8, kind: CorpusKind = 'addresses'): Buffer {
  const key = `${bits}/${kind}`;
  if (!built.has(key)) built.set(key, buildCorpusBytes(bits, kind));
  return Buffer.from(built.get(key)!);
}

function buildCorpusBytes(bits: FingerprintBits, kind: CorpusKind): Buffer {
  const keys = new Uint32Array(2 * addresses.length);
  addresses.forEach((address, i) => {
    const digest = hasher.digest(address);
    keys[2 * i] = digest.readUInt32LE(0);
    keys[2 * i + 1] = digest.readUInt32LE(4);
  });
  const { filter, uniqueCount } = BinaryFuseFilter.build(keys, addresses.length, bits);
  const builtAt = new Date('2025-01-02T03:04:05.000Z');
  return Buffer.concat(
    encodeCorpus({ kind, filter, count: uniqueCount, skipped: 7, duplicates: 3, keyId: hasher.keyId, builtAt }),
  );
}

function contains(bytes: Buffer, address: string): boolean {
  const { filter } = decodeCorpus(bytes, { kind: 'addresses', keyId: hasher.keyId });
  const digest = hasher.digest(address);
  return filter.contains(digest.readUInt32LE(0), digest.readUInt32LE(4));
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(LeakCorpusError);
    return (error as LeakCorpusError).code;
  }
  return undefined;
}

describe('corpus file', () => {
  it.each([8, 16] as const)('round-trips a %i-bit corpus', (bits) => {
    const bytes = corpusBytes(bits);
    const { header, bitsPerMember } = decodeCorpus(bytes, { kind: 'addresses', keyId: hasher.keyId });
    expect(header).toMatchObject({ version: 1, kind: 'addresses', fingerprintBits: bits, count: 20_000, skipped: 7 });
    expect(header.duplicates).toBe(3);
    expect(header.builtAt.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(bitsPerMember).toBeLessThanOrEqual(bits === 8 ? 10 : 20);
    for (const address of addresses) expect(contains(bytes, address)).toBe(true);
  });

  it('reads a 16-bit payload at an odd offset', () => {
    const bytes = corpusBytes(16);
    const shifted = Buffer.alloc(bytes.length + 1).fill(0);
    bytes.copy(shifted, 1);
    const odd = shifted.subarray(1);
    expect(odd.byteOffset % 2).toBe(1);
    expect(contains(odd, addresses[123]!)).toBe(true);
  });

  it('does not contain any address in readable form', () => {
    const text = corpusBytes().toString('latin1');
    expect(text).not.toContain('member');
    expect(text).not.toContain('example.com');
  });

  it.each([0, 4, 8, 60, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 100])('refuses a file truncated to %i bytes', (n) => {
    expect(codeOf(() => decodeCorpus(corpusBytes().subarray(0, n)))).toBe('CORPUS_TRUNCATED');
  });

  it('refuses a file cut one byte short', () => {
    const bytes = corpusBytes();
    expect(codeOf(() => decodeCorpus(bytes.subarray(0, bytes.length - 1)))).toBe('CORPUS_TRUNCATED');
  });

  it('refuses trailing bytes', () => {
    expect(codeOf(() => decodeCorpus(Buffer.concat([corpusBytes(), Buffer.from([0])])))).toBe('CORPUS_CORRUPT');
  });

  it.each([
    ['a fingerprint', HEADER_SIZE + 1000],
    ['the last byte', -1],
    ['the count', 16],
    ['the seed', 49],
    ['the build time', 45],
  ])('refuses a flipped bit in %s', (_, offset) => {
    const bytes = corpusBytes();
    const at = offset < 0 ? bytes.length + offset : offset;
    bytes[at] = bytes[at]! ^ 0x10;
    expect(codeOf(() => decodeCorpus(bytes))).toBe('CORPUS_CHECKSUM');
  });

  it('refuses a file built under another key', () => {
    const other = new KeyedHasher('another secret', 'leaked-addresses');
    const error = (() => {
      try {
        decodeCorpus(corpusBytes(), { keyId: other.keyId, source: 'leaks.bin' });
      } catch (e) {
        return e as LeakCorpusError;
      }
    })();
    expect(error?.code).toBe('CORPUS_WRONG_KEY');
    expect(error?.message).toMatch(/leaks\.bin: built under a different key/);
  });

  it('refuses a corpus of the other kind', () => {
    const passwords = corpusBytes(8, 'passwords');
    expect(codeOf(() => decodeCorpus(passwords, { kind: 'addresses' }))).toBe('CORPUS_KIND');
  });

  it('refuses a plain text list as a corpus', () => {
    expect(codeOf(() => decodeCorpus(Buffer.from('alice@example.com\nbob@example.com\n')))).toBe('CORPUS_BAD_MAGIC');
  });

  it('refuses an unknown format version', () => {
    const bytes = corpusBytes();
    bytes.writeUInt16LE(2, 8);
    expect(codeOf(() => decodeCorpus(bytes))).toBe('CORPUS_VERSION');
  });
});
