import type autocannon from 'autocannon';
import { type Target, outcome } from './http.js';

/**
 * Login traffic for the throughput runs. Client addresses are spread over millions of /24s,
 * accounts rotate over `users`, 1 request in 10 has a wrong password: no IP, subnet or account
 * counter comes near a limit and the site-wide failure
 * ratio (10 %) stays under the wave detector's 30 %, so the shield takes its normal path —
 * read every counter, score, allow, record the outcome.
 *
 * Three paths, all real:
 * - returning users from their usual address: the account logged in before from there (the
 *   shield remembers its password quality) and sends its device cookie — most logins at an
 *   exchange;
 * - returning users from a new address on every request: the same, but nothing about the
 *   client address was seen before (worst case for the shield's memo of keyed identifiers);
 * - first logins: no cookie and an account not seen for 30 days, so the shield also scores
 *   the password with zxcvbn once and remembers a new device.
 */
export const WRONG_EVERY = 10;
export const benchEmail = (i: number) => `user${i}@bench.example`;
export const benchPassword = (i: number) => `pw-${(i * 2_654_435_761) % 1_000_003}-ok`;

/** Integer hash (lowbias32), so consecutive requests land far apart. */
export function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function clientIp(i: number): string {
  const h = mix(i ^ 0x5bd1e995);
  return `${11 + (h % 100)}.${(h >>> 8) & 255}.${(h >>> 16) & 255}.${1 + ((h >>> 24) % 254)}`;
}

export interface LoginRequest {
  readonly ip: string;
  readonly body: string;
  readonly cookie: string | undefined;
}

/** An account's usual client address (home connection). */
export const homeIp = (user: number) => clientIp(900_000_000 + user);

export interface Stream {
  /** Accounts the stream rotates over: user0 … user(n-1). */
  readonly users: number;
  /** Every request from its account's usual address (true) or from a new address (default). */
  readonly fromHome?: boolean;
  /** Device cookie per account (returning path); absent: every request is a new device. */
  readonly cookies?: readonly (string | undefined)[];
  /** Account of the i-th request; default a hash of i. */
  readonly account?: (i: number) => number;
}

/** The `i`-th request of a stream. */
export function loginRequest(i: number, stream: Stream): LoginRequest {
  const user = stream.account ? stream.account(i) : mix(i) % stream.users;
  const wrong = i % WRONG_EVERY === WRONG_EVERY - 1;
  const password = wrong ? `${benchPassword(user)}-typo` : benchPassword(user);
  return { ip: stream.fromHome ? homeIp(user) : clientIp(i), cookie: stream.cookies?.[user], body: JSON.stringify({ email: benchEmail(user), password }) };
}

/** An autocannon request whose body, X-Forwarded-For and cookie are `next(i)`, i counting up from `offset`. */
export function cannonLogins(next: (i: number) => LoginRequest, offset: number): autocannon.Request {
  let n = offset;
  return {
    method: 'POST',
    path: '/auth/login',
    setupRequest: (req) => {
      const r = next(n++);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': r.ip };
      if (r.cookie) headers.cookie = r.cookie;
      return { ...req, method: 'POST', path: '/auth/login', headers, body: r.body };
    },
  };
}

/** An autocannon request whose body, X-Forwarded-For and cookie change on every send. */
export function rotatingLogin(offset: number, stream: Stream): autocannon.Request {
  return cannonLogins((i) => loginRequest(i, stream), offset);
}

/** Every bench account's second factor on the cheap login server (`login-server.ts`). */
export const BENCH_SECOND_FACTOR = '246810';

/**
 * Log every account in once with its right password (a first login: new device, password
 * scored) and keep the device cookie each got, so the measured load is returning users.
 * Returns the cookies (none from a server without the shield) and the first-login outcomes.
 */
export async function enrolAccounts(
  target: Target,
  users: number,
  concurrency = 16,
  /** The user's second-factor code for the step-up (the cheap server's fixed one by default). */
  codeFor: (user: number) => Promise<string> | string = () => BENCH_SECOND_FACTOR,
): Promise<(string | undefined)[]> {
  const cookies: (string | undefined)[] = new Array(users);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < users) {
        const user = next++;
        let reply = await target.post('/auth/login', { email: benchEmail(user), password: benchPassword(user) }, { ip: homeIp(user) });
        if (outcome(reply) === 'challenge') {
          reply = await target.post('/auth/login/verify', { challenge: reply.body.challenge, code: await codeFor(user) }, { ip: homeIp(user) });
        }
        if (outcome(reply) !== 'token') throw new Error(`enrolment login of account ${user} answered ${reply.status} ${String(reply.body.error ?? '')}`);
        cookies[user] = reply.deviceCookie;
      }
    }),
  );
  return cookies;
}
