import { describe, expect, it } from 'vitest';
import { random } from '../../src/identity/random-pool.js';

describe('random pool', () => {
  it('hands out each byte once: thousands of tokens across refills are all distinct and well-formed', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 5_000; i++) tokens.add(random.base64url(32));
    expect(tokens.size).toBe(5_000);
    for (const token of [...tokens].slice(0, 50)) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('copies bytes out, so later draws never change what was handed out', () => {
    const first = random.bytes(12);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1_000; i++) random.bytes(12);
    expect(first.equals(copy)).toBe(true);
    expect(first).toHaveLength(12);
  });

  it('serves sizes larger than the pool straight from the generator', () => {
    const big = random.bytes(10_000);
    expect(big).toHaveLength(10_000);
    // 10,000 random bytes are not all zero (the pool is never handed out unfilled).
    expect(big.some((b) => b !== 0)).toBe(true);
    expect(random.base64url(5_000)).toHaveLength(Math.ceil((5_000 * 4) / 3));
  });
});
