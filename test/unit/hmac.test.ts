import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256 } from '../../src/identity/hmac.js';

const hex = (base64url: string) => Buffer.from(base64url, 'base64url').toString('hex');
const reference = (key: string | Buffer, message: string) => createHmac('sha256', key).update(message, 'utf8').digest('base64url');

describe('hmacSha256', () => {
  // RFC 4231, test cases 1, 2 and 6: a short key, a text key, a key longer than SHA-256's block.
  it('gives RFC 4231 HMAC-SHA-256 values', () => {
    expect(hex(hmacSha256(Buffer.alloc(20, 0x0b))('Hi There'))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(hex(hmacSha256('Jefe')('what do ya want for nothing?'))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(hex(hmacSha256(Buffer.alloc(131, 0xaa))('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it("gives node's createHmac value for every kind of text, one message after another", () => {
    const secret = 's'.repeat(40);
    const mac = hmacSha256(secret);
    const messages = [
      'acct\0user@example.com',
      '',
      'jürgen@bücher.example',
      '😀 emoji and a lone surrogate \ud800 end',
      'x'.repeat(5000), // longer than the kept buffer
      '€'.repeat(1024), // exactly fills it (3 bytes each)
      '€'.repeat(1025),
      'short after long',
    ];
    // Twice, in order: a long message must leave nothing behind for the next short one.
    for (const message of [...messages, ...messages]) expect(mac(message)).toBe(reference(secret, message));
  });

  it('keys a string secret and the same bytes as a Buffer alike, and two secrets apart', () => {
    expect(hmacSha256('k'.repeat(40))('ip\x001.2.3.4')).toBe(hmacSha256(Buffer.from('k'.repeat(40)))('ip\x001.2.3.4'));
    expect(hmacSha256('k'.repeat(40))('ip\x001.2.3.4')).not.toBe(hmacSha256('j'.repeat(40))('ip\x001.2.3.4'));
    // A 64-byte key is used as it is, a 65-byte one hashed first.
    for (const length of [63, 64, 65]) expect(hmacSha256('q'.repeat(length))('m')).toBe(reference('q'.repeat(length), 'm'));
  });
});
