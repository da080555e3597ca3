import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyedHasher } from '../../src/corpus/keyed-hash.js';

describe('KeyedHasher', () => {
  it('is HMAC-SHA-256 under a key derived from the secret and the purpose', () => {
    const derived = createHmac('sha256', 'top secret').update('account-shield/leaked-addresses/v1').digest();
    const expected = createHmac('sha256', derived).update('alice@example.com').digest();
    expect(new KeyedHasher('top secret', 'leaked-addresses').digest('alice@example.com').equals(expected)).toBe(true);
  });

  it('treats a string secret and its UTF-8 bytes alike', () => {
    const a = new KeyedHasher('clé', 'leaked-addresses');
    const b = new KeyedHasher(Buffer.from('clé', 'utf8'), 'leaked-addresses');
    expect(a.keyId.equals(b.keyId)).toBe(true);
    expect(a.digest('x@y.com').equals(b.digest('x@y.com'))).toBe(true);
  });

  it('gives another digest and key id under another secret or purpose', () => {
    const base = new KeyedHasher('one', 'leaked-addresses');
    const otherSecret = new KeyedHasher('two', 'leaked-addresses');
    const otherPurpose = new KeyedHasher('one', 'breached-passwords');
    expect(base.keyId).toHaveLength(8);
    expect(base.keyId.equals(otherSecret.keyId)).toBe(false);
    expect(base.keyId.equals(otherPurpose.keyId)).toBe(false);
    expect(base.digest('a@b.com').equals(otherSecret.digest('a@b.com'))).toBe(false);
    expect(base.digest('a@b.com').equals(otherPurpose.digest('a@b.com'))).toBe(false);
  });

  it('refuses an empty secret', () => {
    expect(() => new KeyedHasher('', 'leaked-addresses')).toThrow(/secret is empty/);
    expect(() => new KeyedHasher(new Uint8Array(0), 'breached-passwords')).toThrow(/secret is empty/);
  });
});
