/**
 * Keyed hashing for the leak and breached-password corpora. Entries are stored only as
 * HMAC-SHA-256 under a key derived from the shield secret, so a copied corpus file is not a
 * list of addresses: without the secret nobody can even test membership.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ShieldConfigError } from '../errors/shield-error.js';

export type Secret = string | Uint8Array;

/** Each corpus kind gets its own derived key, so a corpus hash never equals a store key. */
export type KeyPurpose = 'leaked-addresses' | 'breached-passwords';

const KEY_ID_LABEL = 'account-shield key id';

export class KeyedHasher {
  readonly purpose: KeyPurpose;
  /**
   * 8 bytes identifying the derived key (not the secret: it is an HMAC output). Written in a
   * corpus header so a file built under another secret is refused instead of silently
   * answering "not leaked" for everyone.
   */
  readonly keyId: Buffer;
  readonly #key: KeyObject;

  constructor(secret: Secret, purpose: KeyPurpose) {
    const secretBytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (secretBytes.length === 0) {
      throw new ShieldConfigError('MISSING_SECRET', 'The corpus secret is empty.', 'Set SHIELD_SECRET (or pass the secret the servers run with).');
    }
    const derived = createHmac('sha256', secretBytes).update(`account-shield/${purpose}/v1`).digest();
    this.purpose = purpose;
    this.#key = createSecretKey(derived);
    this.keyId = createHmac('sha256', this.#key).update(KEY_ID_LABEL).digest().subarray(0, 8);
  }

  /** HMAC-SHA-256 of `data` (a normalised address, or a password's SHA-1 bytes). */
  digest(data: string | Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(data).digest();
  }
}
