import { createHmac, createSecretKey } from 'node:crypto';
import { MemoCache } from './memo-cache.js';
import { keepHiddenClass } from '../runtime/hidden-classes.js';

// Every id keyed afresh makes an Hmac and drops it: see keepHiddenClass.
keepHiddenClass(createHmac('sha256', 'hidden class'));

/**
 * Every identifier is keyed with HMAC-SHA-256 under the shield secret before it touches a
 * store, a log or an event, so a dump of our own state is not a list of users or IPs. A
 * domain label separates the kinds, so an IP hash can never collide with an account hash.
 */
export type IdKind = 'acct' | 'user' | 'ip' | 'net' | 'dev' | 'chal' | 'code';

export type Keyer = (kind: IdKind, value: string) => string;

/**
 * 128 bits of HMAC output, base64url: short keys, no practical collisions. Results are memoised
 * in process (bounded) because the same users come back; nothing of it leaves the process.
 */
export function createKeyer(secret: string | Buffer, cacheSize = 50_000): Keyer {
  // Prepared once: a key given as a string is converted again on every `createHmac` (~15 % of it).
  const key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  // One update of the joined text hashes the same bytes as three, for one crossing into C++ not three.
  const compute = (kind: IdKind, value: string) => createHmac('sha256', key).update(`${kind}\0${value}`).digest('base64url').slice(0, 22);
  if (cacheSize <= 0) return compute;
  const cache = new MemoCache<string>(cacheSize);
  return (kind, value) => (value.length > 512 ? compute(kind, value) : cache.get(`${kind}\0${value}`, () => compute(kind, value)));
}
