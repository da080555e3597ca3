import { generateSecret } from 'otplib';
import request from 'supertest';
import { afterEach, expect } from 'vitest';
import type { Express } from 'express';
import { createExchangeApp, type ExchangeApp } from '../../examples/exchange-server/app.js';
import type { ExchangeOptions } from '../../examples/exchange-server/options.js';
import { totpCode } from '../../examples/exchange-server/totp.js';
import type { SeedUser } from '../../examples/exchange-server/users.js';

export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

/** Cheap scrypt so a test file's logins take milliseconds; still real scrypt hashes. */
export const TEST_SCRYPT_COST = 1024;

export interface TestUser extends SeedUser {
  readonly leaked: boolean;
}

const make = (name: string, leaked: boolean, password = `${name}-Str0ng-pass-phrase-77`): TestUser => ({
  email: `${name}@example.test`,
  password,
  totpSecret: generateSecret(),
  leaked,
});

/** A fresh cast per call, so no test can see another's TOTP secrets or sessions. */
export function testUsers() {
  return {
    /** Leaked address, strong password. */
    leakedAlice: make('alice', true),
    /** Leaked address, second victim, for tests needing a clean account. */
    leakedBob: make('bob', true),
    leakedDave: make('dave', true),
    leakedErin: make('erin', true),
    /** Not leaked. */
    carol: make('carol', false),
    frank: make('frank', false),
    grace: make('grace', false),
  };
}

export type Cast = ReturnType<typeof testUsers>;

/** Addresses on the leak list that have no account: scored exactly like leaked accounts. */
export const LEAKED_UNKNOWN = 'ghost@example.test';

export async function startExchange(cast: Cast, options: ExchangeOptions = {}): Promise<ExchangeApp> {
  const users = Object.values(cast);
  return createExchangeApp({
    secret: SECRET,
    scryptCost: TEST_SCRYPT_COST,
    users,
    leakedAddresses: [...users.filter((u) => u.leaked).map((u) => u.email), LEAKED_UNKNOWN],
    trustProxy: 'loopback',
    ...options,
  });
}

export interface ClientOptions {
  /** Presented as X-Forwarded-For (the app trusts loopback, where supertest connects from). */
  ip?: string;
  cookie?: string;
  token?: string;
}

export function post(app: Express, path: string, body: unknown, client: ClientOptions = {}) {
  let req = request(app).post(path);
  if (client.ip) req = req.set('X-Forwarded-For', client.ip);
  if (client.cookie) req = req.set('Cookie', client.cookie);
  if (client.token) req = req.set('Authorization', `Bearer ${client.token}`);
  return req.send(body as object);
}

export function get(app: Express, path: string, client: ClientOptions = {}) {
  let req = request(app).get(path);
  if (client.ip) req = req.set('X-Forwarded-For', client.ip);
  if (client.cookie) req = req.set('Cookie', client.cookie);
  if (client.token) req = req.set('Authorization', `Bearer ${client.token}`);
  return req;
}

/** The `as_dev=...` pair of a response's Set-Cookie, to send back as a known device. */
export function deviceCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const header = res.headers['set-cookie'];
  const list = Array.isArray(header) ? (header as string[]) : typeof header === 'string' ? [header] : [];
  return list.map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('as_dev='));
}

export function code(user: SeedUser): Promise<string> {
  return totpCode(user.totpSecret);
}

/** A six-digit code that is not valid for `user` right now (nor one step either side). */
export async function wrongCode(user: SeedUser): Promise<string> {
  const valid = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => totpCode(user.totpSecret, Date.now() + d))));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

/**
 * Full login as a real user would: password, then TOTP if challenged.
 * Returns the token and the device cookie to reuse.
 */
export async function loginAndEnrol(app: Express, user: SeedUser, client: ClientOptions = {}) {
  const first = await post(app, '/auth/login', { email: user.email, password: user.password }, client);
  if (first.status === 200) return { token: first.body.token as string, cookie: deviceCookie(first) ?? client.cookie, challenged: false };
  if (first.status !== 401 || first.body.error !== 'step_up_required') {
    throw new Error(`login answered ${first.status} ${JSON.stringify(first.body)}`);
  }
  const verify = await post(app, '/auth/login/verify', { challenge: first.body.challenge, code: await code(user) }, client);
  if (verify.status !== 200) throw new Error(`verify answered ${verify.status} ${JSON.stringify(verify.body)}`);
  return { token: verify.body.token as string, cookie: deviceCookie(verify) ?? client.cookie, challenged: true };
}

/**
 * `POST /account/password` refused twice, whatever guards the route: a wrong current password
 * is 403 forbidden, a weak new one 400 weak_password with zxcvbn's feedback.
 */
export async function expectPasswordChecks(app: Express, user: SeedUser, me: ClientOptions): Promise<void> {
  const forbidden = await post(app, '/account/password', { currentPassword: 'nope', newPassword: 'a-Much-better-passphrase-2024' }, me);
  expect(forbidden.status).toBe(403);
  expect(forbidden.body).toEqual({ error: 'forbidden' });
  const weak = await post(app, '/account/password', { currentPassword: user.password, newPassword: 'password1' }, me);
  expect(weak.status).toBe(400);
  expect(weak.body.error).toBe('weak_password');
  expect(weak.body.feedback).toMatchObject({ warning: expect.any(String), suggestions: expect.any(Array) });
}

/**
 * For a test file: `start()` builds the exchange with a fresh cast of users; whatever it built
 * is closed after each test.
 */
export function useExchange() {
  let exchange: ExchangeApp | undefined;
  afterEach(async () => {
    await exchange?.close();
    exchange = undefined;
  });
  return async (options: ExchangeOptions = {}) => {
    const cast = testUsers();
    exchange = await startExchange(cast, options);
    return { cast, app: exchange.app, exchange };
  };
}

/** What a client (or an attack tool) can tell apart in an answer: everything but random tokens. */
export function answerShape(res: { status: number; body: Record<string, unknown>; headers: Record<string, unknown> }) {
  return {
    status: res.status,
    keys: Object.keys(res.body).sort(),
    error: res.body.error,
    expiresIn: res.body.expiresIn,
    wwwAuthenticate: res.headers['www-authenticate'],
    cookie: deviceCookie(res) !== undefined,
  };
}
