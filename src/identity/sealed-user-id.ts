import { createCipheriv, createDecipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { random } from './random-pool.js';
import { keepHiddenClass } from '../runtime/hidden-classes.js';

// Every challenge seals (and every answer opens) a user id with a cipher it drops, and so the
// buffers the cipher makes: see keepHiddenClass.
keepHiddenClass(createDecipheriv('aes-256-gcm', Buffer.alloc(32), Buffer.alloc(12)));
const exampleCipher = keepHiddenClass(createCipheriv('aes-256-gcm', Buffer.alloc(32), Buffer.alloc(12)));
keepHiddenClass(exampleCipher.update('hidden class', 'utf8'));

/**
 * A challenge has to remember which app user answers it, but a store dump must not be a list
 * of user ids (the example's are a plain hash of the address: reversible by hashing a user
 * list). So the id is sealed with AES-256-GCM under a key derived from the shield secret:
 * readable by the shield, opaque and tamper-evident to anyone holding only the store.
 */
export class UserIdSeal {
  /** Prepared once: a key given as bytes is imported again on every cipher. */
  readonly #key: KeyObject;

  constructor(secret: string) {
    this.#key = createSecretKey(createHmac('sha256', secret).update('account-shield user-id seal v1').digest());
  }

  seal(userId: string): string {
    const iv = random.bytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(userId, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The user id, or undefined when the value was not sealed under this secret. */
  open(sealed: string): string | undefined {
    try {
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < 29) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
