import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BinaryFuseFilter, sortUnique } from '../../src/corpus/filter-binary-fuse.js';

function randomKeys(n: number): Uint32Array {
  return new Uint32Array(randomBytes(8 * n).buffer.slice(0));
}

function falsePositives(filter: BinaryFuseFilter, probes: number): number {
  const keys = randomKeys(probes);
  let hits = 0;
  for (let i = 0; i < probes; i++) if (filter.contains(keys[2 * i]!, keys[2 * i + 1]!)) hits++;
  return hits;
}

describe('BinaryFuseFilter', () => {
  it.each([0, 1, 2, 3, 7, 100, 1000, 4097, 30_000])('has no false negatives with %i keys', (n) => {
    for (const bits of [8, 16] as const) {
      const keys = randomKeys(n);
      const original = keys.slice();
      const { filter, uniqueCount } = BinaryFuseFilter.build(keys, n, bits);
      expect(uniqueCount).toBe(n);
      for (let i = 0; i < n; i++) expect(filter.contains(original[2 * i]!, original[2 * i + 1]!)).toBe(true);
    }
  });

  it('answers false for everything when empty', () => {
    const { filter } = BinaryFuseFilter.build(new Uint32Array(0), 0);
    expect(filter.byteLength).toBe(0);
    expect(falsePositives(filter, 1000)).toBe(0);
  });

  it('meets ≤ 10 bits per key and ≤ 0.5 % false positives with 8-bit fingerprints', () => {
    const n = 100_000;
    const { filter } = BinaryFuseFilter.build(randomKeys(n), n, 8);
    expect((filter.byteLength * 8) / n).toBeLessThanOrEqual(10);
    const rate = falsePositives(filter, 200_000) / 200_000;
    // Expected 1/256 ≈ 0.39 %; 0.5 % is > 6 standard deviations away.
    expect(rate).toBeLessThan(0.005);
    expect(rate).toBeGreaterThan(0.003);
  });

  it('cuts false positives to ~1/65536 with 16-bit fingerprints', () => {
    const n = 100_000;
    const { filter } = BinaryFuseFilter.build(randomKeys(n), n, 16);
    expect((filter.byteLength * 8) / n).toBeLessThanOrEqual(20);
    expect(filter.expectedFalsePositiveRate).toBe(2 ** -16);
    expect(falsePositives(filter, 200_000)).toBeLessThan(15); // expected ~3
  });

  it('drops duplicate keys and still finds them', () => {
    const unique = randomKeys(500);
    const keys = new Uint32Array(2 * 1500);
    for (let copy = 0; copy < 3; copy++) keys.set(unique, copy * 1000);
    const { filter, uniqueCount } = BinaryFuseFilter.build(keys, 1500, 8);
    expect(uniqueCount).toBe(500);
    for (let i = 0; i < 500; i++) expect(filter.contains(unique[2 * i]!, unique[2 * i + 1]!)).toBe(true);
  });

  it('builds the same filter from the same keys in any order', () => {
    const keys = randomKeys(5000);
    const reversed = new Uint32Array(keys.length);
    for (let i = 0; i < 5000; i++) reversed.set(keys.subarray(2 * i, 2 * i + 2), 2 * (4999 - i));
    const a = BinaryFuseFilter.build(keys, 5000).filter;
    const b = BinaryFuseFilter.build(reversed, 5000).filter;
    expect(a.params).toEqual(b.params);
    expect(Buffer.from(a.fingerprints).equals(Buffer.from(b.fingerprints))).toBe(true);
  });

  it('reconstructs from its parameters and fingerprints', () => {
    const keys = randomKeys(2000);
    const original = keys.slice();
    const { filter } = BinaryFuseFilter.build(keys, 2000, 16);
    const copy = new BinaryFuseFilter({ ...filter.params }, filter.fingerprints.slice());
    for (let i = 0; i < 2000; i++) expect(copy.contains(original[2 * i]!, original[2 * i + 1]!)).toBe(true);
  });

  it('refuses inconsistent parameters', () => {
    const { filter } = BinaryFuseFilter.build(randomKeys(100), 100, 8);
    const p = filter.params;
    expect(() => new BinaryFuseFilter({ ...p, segmentLength: 3 }, filter.fingerprints)).toThrow(/segment length/);
    expect(() => new BinaryFuseFilter({ ...p, segmentCount: p.segmentCount + 1 }, filter.fingerprints)).toThrow(
      /inconsistent/,
    );
    expect(() => new BinaryFuseFilter(p, filter.fingerprints.subarray(1))).toThrow();
    expect(() => new BinaryFuseFilter({ ...p, fingerprintBits: 16 }, filter.fingerprints)).toThrow(/mismatch/);
  });
});

describe('sortUnique', () => {
  it('keeps one of each 64-bit key', () => {
    const keys = new Uint32Array([5, 1, 5, 1, 0, 2, 5, 0, 5, 1, 0, 2]);
    expect(sortUnique(keys, 6)).toBe(3);
    const pairs = [0, 1, 2].map((i) => `${keys[2 * i + 1]}:${keys[2 * i]}`);
    expect(pairs).toEqual(['0:5', '1:5', '2:0']);
  });
});
