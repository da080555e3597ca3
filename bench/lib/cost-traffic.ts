import type autocannon from 'autocannon';
import { outcome, type Target } from './http.js';
import { benchEmail, benchPassword, cannonLogins, clientIp, homeIp, type LoginRequest, mix, WRONG_EVERY } from './load.js';

/**
 * The three kinds of login traffic the cost bench sends, 1 request in WRONG_EVERY with a wrong
 * password in each:
 *
 * - returning: an account that logged in before, from its usual address, with its device
 *   cookie (most logins at an exchange): the shield reads, scores, allows and records;
 * - new device: accounts the server knows but never saw, no cookie, a new client address on
 *   every request (a stuffing run): the default posture steps every one up;
 * - blocked source: no cookie, from addresses that already failed past the per-IP limit: 429
 *   before the app's password check.
 */
export type TrafficKind = 'returning' | 'new-device' | 'blocked-source';

export interface Traffic {
  readonly kind: TrafficKind;
  request(i: number): LoginRequest;
}

/** Failures that put one address over the shield's default per-IP limit (20 in 15 min). */
export const FAILURES_TO_BLOCK = 20;

const isWrong = (i: number) => i % WRONG_EVERY === WRONG_EVERY - 1;

function body(user: number, wrong: boolean): string {
  return JSON.stringify({ email: benchEmail(user), password: wrong ? `${benchPassword(user)}-typo` : benchPassword(user) });
}

/** One login of a returning account from home, with its cookie (none: no header). */
export function returningLogin(user: number, wrong: boolean, cookies: readonly (string | undefined)[]): LoginRequest {
  return { ip: homeIp(user), cookie: cookies[user], body: body(user, wrong) };
}

/** Accounts 0…accounts-1 from home with the cookie each got at enrolment. */
export function returningTraffic(accounts: number, cookies: readonly (string | undefined)[]): Traffic {
  return { kind: 'returning', request: (i) => returningLogin(mix(i) % accounts, isWrong(i), cookies) };
}

/** Accounts first…first+count-1 in turn, each request from an address never used before. */
export function newDeviceTraffic(first: number, count: number): Traffic {
  return {
    kind: 'new-device',
    request: (i) => ({ ip: clientIp(i), cookie: undefined, body: body(first + (i % count), isWrong(i)) }),
  };
}

/** Accounts first…first+count-1 in a hashed order, from one of `sources` (already over the limit). */
export function blockedTraffic(first: number, count: number, sources: readonly string[]): Traffic {
  return {
    kind: 'blocked-source',
    request: (i) => ({ ip: sources[i % sources.length] as string, cookie: undefined, body: body(first + (mix(i) % count), isWrong(i)) }),
  };
}

/**
 * `count` addresses of their own for one measurement: `set` picks which (no two sets share
 * one). Their first octets (111–126) are none of `clientIp`'s (11–110), so no new device or
 * home address of the bench shares a /24 with a source it blocked: a new device there would
 * be refused with it (the subnet's failures count against it), which in one process, as in
 * the in-process bench, made about one new-device call in 50,000 a 429.
 */
export function sourceSet(set: number, count: number): string[] {
  return Array.from({ length: count }, (_, j) => {
    const h = mix((2_000_000_000 + set * 10_000 + j) ^ 0x2545f491);
    return `${111 + (h % 16)}.${(h >>> 8) & 255}.${(h >>> 16) & 255}.${1 + ((h >>> 24) % 254)}`;
  });
}

/**
 * Fail FAILURES_TO_BLOCK times from each address (wrong passwords, no cookie, a different
 * account each time), then check that each is refused: a blocked-source window measures 429s
 * only if its sources really are over the limit.
 */
export async function burnSources(target: Target, sources: readonly string[], accounts: number): Promise<void> {
  let n = 0;
  const jobs = sources.flatMap((ip) => Array.from({ length: FAILURES_TO_BLOCK }, () => ({ ip, user: n++ % accounts })));
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let job = jobs.pop(); job; job = jobs.pop()) {
        await target.post('/auth/login', { email: benchEmail(job.user), password: 'not-the-password' }, { ip: job.ip });
      }
    }),
  );
  for (const ip of sources) {
    const reply = await target.post('/auth/login', { email: benchEmail(0), password: benchPassword(0) }, { ip });
    if (outcome(reply) !== 'blocked') throw new Error(`after ${FAILURES_TO_BLOCK} failures a source still got ${reply.status} ${String(reply.body.error ?? '')}, not 429`);
  }
}

/**
 * One login per account on its known device, right password, before anything is measured:
 * the first such login also scores the password with zxcvbn (once per account, after the
 * answer), which is not what a returning user costs afterwards. Returns how many answers
 * were not a token.
 */
export async function settleReturning(target: Target, accounts: number, cookies: readonly (string | undefined)[]): Promise<number> {
  let next = 0;
  let other = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < accounts) {
        const r = returningLogin(next++, false, cookies);
        const reply = await target.post('/auth/login', JSON.parse(r.body), { ip: r.ip, cookie: r.cookie });
        if (outcome(reply) !== 'token') other++;
      }
    }),
  );
  return other;
}

/** An autocannon request whose body, X-Forwarded-For and cookie follow `traffic` from `offset`. */
export function cannonRequest(traffic: Traffic, offset: number): autocannon.Request {
  return cannonLogins((i) => traffic.request(i), offset);
}
