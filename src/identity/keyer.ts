import { hmacSha256 } from './hmac.js';
import { MemoCache } from './memo-cache.js';

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
  const mac = hmacSha256(secret);
  const compute = (kind: IdKind, value: string) => mac(`${kind}\0${value}`).slice(0, 22);
  if (cacheSize <= 0) return compute;
  const cache = new MemoCache<string>(cacheSize);
  return (kind, value) => (value.length > 512 ? compute(kind, value) : cache.get(`${kind}\0${value}`, () => compute(kind, value)));
}
