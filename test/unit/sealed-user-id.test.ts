import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UserIdSeal } from '../../src/identity/sealed-user-id.js';

const secret = 'u'.repeat(40);

describe('UserIdSeal', () => {
  it('opens what it seals, never the same text twice, and refuses a tampered or foreign value', () => {
    const seal = new UserIdSeal(secret);
    const a = seal.seal('user-42');
    const b = seal.seal('user-42');
    expect(a).not.toBe(b);
    expect([seal.open(a), seal.open(b)]).toEqual(['user-42', 'user-42']);
    expect(a).not.toContain('user-42');
    const bytes = Buffer.from(a, 'base64url');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    expect(seal.open(bytes.toString('base64url'))).toBeUndefined();
    expect(new UserIdSeal('v'.repeat(40)).open(a)).toBeUndefined();
    expect(seal.open('short')).toBeUndefined();
  });

  it('opens a value sealed as earlier versions sealed it (AES-256-GCM under the derived key as bytes)', () => {
    const key = createHmac('sha256', secret).update('account-shield user-id seal v1').digest();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update('ü-user', 'utf8'), cipher.final()]);
    const old = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    expect(new UserIdSeal(secret).open(old)).toBe('ü-user');
  });
});
