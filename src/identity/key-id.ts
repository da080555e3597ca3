/**
 * The shield's key id in its store: a short HMAC of a fixed label under the secret (never the
 * secret, and useless to guess it from). Every shield writes it at start-up, so a tool that
 * acts on the same store — the `lock` / `unlock` / `status` CLI — can tell that it runs under
 * the servers' secret before it locks a keyed user id nobody will ever look up.
 */
import { createHmac } from 'node:crypto';
import { errorMessage } from '../errors/error-message.js';
import type { Store } from '../stores/store.js';
import type { Logger } from '../config/logger.js';

/** Store key (the store adds its own prefix); no hash tag: it is read and written alone. */
export const KEY_ID_KEY = 'keyid';
/** Long enough to outlive any deployment between restarts; every start refreshes it. */
export const KEY_ID_TTL_MS = 400 * 86_400_000;

/** 64 bits of HMAC-SHA-256 under the secret, hex: enough to tell two secrets apart. */
export function keyIdOf(secret: string): string {
  return createHmac('sha256', secret).update('account-shield/store-key-id/v1').digest('hex').slice(0, 16);
}

/** The key id the last shield to start on `store` recorded; undefined when none did. */
export async function recordedKeyId(store: Store): Promise<string | undefined> {
  const { values } = await store.read({ counters: [], keys: [KEY_ID_KEY] });
  return values[0];
}

/**
 * Record this shield's key id, warning when the store was last used under another secret
 * (instances that disagree on the secret never see each other's counters, devices or locks).
 * Never throws: a store that is down at start-up must not stop the server.
 */
export async function recordKeyId(store: Store, secret: string, logger: Logger): Promise<void> {
  const mine = keyIdOf(secret);
  try {
    const previous = await recordedKeyId(store);
    if (previous !== undefined && previous !== mine) {
      logger.warn(
        `[account-shield] the ${store.name} store was last used by a shield with another secret (key id ${previous}, this one ${mine}): every instance must run with the same secret.`,
      );
    }
    await store.set(KEY_ID_KEY, mine, KEY_ID_TTL_MS);
  } catch (error) {
    logger.warn(`[account-shield] could not record the key id in the ${store.name} store: ${errorMessage(error)}`);
  }
}
