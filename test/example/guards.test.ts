import { describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { verifyTotp } from '../../examples/exchange-server/totp.js';
import { MemoryStore, type Store, StoreUnavailableError } from '../../src/index.js';
import {
  type Cast,
  type ClientOptions,
  code,
  get,
  loginAndEnrol,
  post,
  useExchange,
  type TestUser,
  testUsers,
  wrongCode,
} from './helpers.js';
import { changeEmail, startEmailChange } from './email-flow.js';

/**
 * The shield's guards as a user of the example exchange meets them: credential changes from a
 * device the shield knows (a login on it set the `as_dev` cookie, which the client sends back)
 * go through at once; from any other device they need step-up (repeat the request with
 * `challenge` and a TOTP `code`); every successful change locks withdrawals.
 */

const start = useExchange();

type App = ExchangeApp['app'];
const HOUR = 3_600_000;
const ADDRESS = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';
const NEW_PASSWORD = 'orbit-Lantern-quietly-58-mosaic';
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Log in on a device the way a browser does and keep its cookie: a known device, a fresh session. */
async function knownDevice(app: App, user: TestUser, ip: string) {
  const session = await loginAndEnrol(app, user, { ip });
  expect(session.cookie).toMatch(/^as_dev=/);
  return { token: session.token, cookie: session.cookie, ip } satisfies ClientOptions;
}

const withdraw = (app: App, client: ClientOptions) => post(app, '/wallet/withdrawals', { amount: '0.5', address: ADDRESS }, client);

/** A 423 whose lock runs `hours` from the change made between `before` and `after`. */
function expectLocked(res: Awaited<ReturnType<typeof withdraw>>, hours: number, before: number, after: number) {
  expect(res.status, res.text).toBe(423);
  expect(res.body).toEqual({ error: 'withdrawals_locked', lockedUntil: expect.any(String) });
  const until = Date.parse(res.body.lockedUntil);
  expect(until).toBeGreaterThanOrEqual(before + hours * HOUR);
  expect(until).toBeLessThanOrEqual(after + hours * HOUR);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(hours * 3600 - 30);
  expect(retryAfter).toBeLessThanOrEqual(hours * 3600);
  return until;
}

function expectStepUp(res: Awaited<ReturnType<typeof post>>) {
  expect(res.status, res.text).toBe(401);
  expect(res.body).toEqual({ error: 'step_up_required', challenge: expect.stringMatching(CHALLENGE), expiresIn: 300 });
  expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="insufficient_user_authentication"/);
  return res.body.challenge as string;
}

interface Guarded {
  readonly route: string;
  readonly path: string;
  /** The change's body; may first start the change (an email change sends a code to confirm). */
  readonly body: (user: TestUser, exchange: ExchangeApp, client: ClientOptions) => Promise<Record<string, unknown>>;
  readonly status: number;
  /** The lock reason's kind and its durations: plain, and after a change that needed step-up. */
  readonly kind: string;
  readonly hours: number;
  readonly riskyHours: number;
  /** Something that differs once the change has happened. */
  readonly effect: (exchange: ExchangeApp, user: TestUser) => Promise<unknown>;
}

const userOf = (exchange: ExchangeApp, user: TestUser) => exchange.users.findByEmail(user.email);
const passwordBody = (user: TestUser) => ({ currentPassword: user.password, newPassword: NEW_PASSWORD });
const GUARDED: readonly Guarded[] = [
  {
    route: 'password',
    path: '/account/password',
    body: async (user) => passwordBody(user),
    status: 200,
    kind: 'password',
    hours: 24,
    riskyHours: 48,
    effect: async (ex, user) => (await ex.users.authenticate(user.email, NEW_PASSWORD)) !== undefined,
  },
  {
    route: 'email',
    path: '/account/email/confirm',
    body: (_user, exchange, client) => startEmailChange(exchange, 'moved@example.test', client),
    status: 200,
    kind: 'email',
    hours: 6,
    riskyHours: 24,
    effect: async (ex) => ex.users.findByEmail('moved@example.test') !== undefined,
  },
  {
    route: '2fa reset',
    path: '/account/2fa/reset',
    body: async () => ({}),
    status: 200,
    kind: '2fa-reset',
    hours: 24,
    riskyHours: 48,
    effect: async (ex, user) => userOf(ex, user)?.totpSecret !== user.totpSecret,
  },
  {
    route: 'api key with withdraw permission',
    path: '/account/api-keys',
    body: async () => ({ permissions: ['read', 'withdraw'] }),
    status: 201,
    kind: 'api-key',
    hours: 24,
    riskyHours: 48,
    effect: async (ex, user) => ex.apiKeys.byUser(userOf(ex, user)!.id).length,
  },
];

describe('credential changes: step-up from a device the shield does not know', () => {
  it.each(GUARDED)('$route: 401 step_up_required, wrong code → invalid_code, TOTP → $status and a $riskyHours h lock', async (g) => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.30');
    // The same session used from elsewhere (a stolen token): no device cookie.
    const elsewhere = { token: home.token, ip: '203.0.113.30' };
    const unchanged = await g.effect(exchange, user);

    const body = await g.body(user, exchange, elsewhere);
    const challenged = await post(app, g.path, body, elsewhere);
    const challenge = expectStepUp(challenged);
    expect(await g.effect(exchange, user)).toEqual(unchanged);
    expect((await withdraw(app, home)).status).toBe(201);

    const wrong = await post(app, g.path, { ...body, challenge, code: await wrongCode(user) }, elsewhere);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_code' });
    expect(await g.effect(exchange, user)).toEqual(unchanged);

    const before = Date.now();
    const passed = await post(app, g.path, { ...body, challenge, code: await code(user) }, elsewhere);
    const after = Date.now();
    expect(passed.status, passed.text).toBe(g.status);
    expect(await g.effect(exchange, user)).not.toEqual(unchanged);

    // A change that needed step-up is more likely an attacker's: it locks for longer.
    const until = expectLocked(await withdraw(app, home), g.riskyHours, before, after);
    const security = await get(app, '/account/security', home);
    expect(security.status).toBe(200);
    expect(security.body.withdrawalsLockedUntil).toBe(new Date(until).toISOString());
    expect(security.body.reasons).toEqual([
      { kind: g.kind, at: expect.any(String), until: new Date(until).toISOString(), detail: expect.stringContaining('step-up') },
    ]);

    // The challenge was single-use.
    const replay = await post(app, g.path, { ...body, challenge, code: await code(user) }, elsewhere);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: 'invalid_code' });
  });

  it.each(GUARDED)('$route from the known device with a fresh session → $status at once, a $hours h lock', async (g) => {
    const { cast, app, exchange } = await start();
    const user = cast.leakedBob; // a leaked address too: the known device (-30) outweighs it (+30)
    const home = await knownDevice(app, user, '192.0.2.31');
    const unchanged = await g.effect(exchange, user);
    const before = Date.now();
    const res = await post(app, g.path, await g.body(user, exchange, home), home);
    const after = Date.now();
    expect(res.status, res.text).toBe(g.status);
    expect(await g.effect(exchange, user)).not.toEqual(unchanged);
    const until = expectLocked(await withdraw(app, home), g.hours, before, after);
    const security = await get(app, '/account/security', home);
    expect(security.body.withdrawalsLockedUntil).toBe(new Date(until).toISOString());
    expect(security.body.reasons).toMatchObject([{ kind: g.kind, until: new Date(until).toISOString() }]);
    expect(security.body.reasons[0].detail).not.toContain('step-up');
  });

  it("another account's device cookie is no better than none", async () => {
    const { cast, app, exchange } = await start();
    const home = await knownDevice(app, cast.carol, '192.0.2.32');
    const franks = await knownDevice(app, cast.frank, '192.0.2.33');
    const client = { token: home.token, cookie: franks.cookie };
    const res = await post(app, '/account/email/confirm', await startEmailChange(exchange, 'carol2@example.test', client), client);
    expectStepUp(res);
  });

  it('a challenge only answers the change, device and account it was issued for', async () => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.34');
    const laptop = await knownDevice(app, cast.frank, '192.0.2.35'); // some other device with a valid cookie
    const elsewhere = { token: home.token };

    // Issued for an email change, presented to the password route.
    const emailBody = await startEmailChange(exchange, 'carol2@example.test', elsewhere);
    const forEmail = expectStepUp(await post(app, '/account/email/confirm', emailBody, elsewhere));
    const crossRoute = await post(app, '/account/password', { ...passwordBody(user), challenge: forEmail, code: await code(user) }, elsewhere);
    expect(crossRoute.status).toBe(401);
    expect(crossRoute.body).toEqual({ error: 'invalid_code' });

    // Issued to one device (no cookie), answered from another.
    const forPassword = expectStepUp(await post(app, '/account/password', passwordBody(user), elsewhere));
    const otherDevice = await post(
      app,
      '/account/password',
      { ...passwordBody(user), challenge: forPassword, code: await code(user) },
      { token: home.token, cookie: laptop.cookie },
    );
    expect(otherDevice.status).toBe(401);
    expect(otherDevice.body).toEqual({ error: 'invalid_code' });

    // A login challenge is not a credential-change challenge.
    const login = await post(app, '/auth/login', { email: cast.leakedAlice.email, password: cast.leakedAlice.password }, { ip: '192.0.2.36' });
    const loginChallenge = expectStepUp(login);
    const fromLogin = await post(app, '/account/email/confirm', { ...emailBody, challenge: loginChallenge, code: await code(user) }, elsewhere);
    expect(fromLogin.status).toBe(401);
    expect(fromLogin.body).toEqual({ error: 'invalid_code' });

    expect(exchange.users.findByEmail(user.email)).toBeDefined();
    expect((await withdraw(app, home)).status).toBe(201);
  });

  it('a session older than an hour needs step-up even on the known device', async () => {
    let now = Date.now();
    const { cast, app } = await start({ shieldOptions: { now: () => now } });
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.37');
    now += 2 * HOUR;
    const challenge = expectStepUp(await post(app, '/account/password', passwordBody(user), home));
    const res = await post(app, '/account/password', { ...passwordBody(user), challenge, code: await code(user) }, home);
    expect(res.status).toBe(200);
    const locked = await withdraw(app, home);
    expect(locked.status).toBe(423);
    expect(Date.parse(locked.body.lockedUntil)).toBe(now + 48 * HOUR);
  });
});

describe('POST /account/password', () => {
  it('a weak new password → 400 weak_password with feedback, before the current password is even checked', async () => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.40');
    for (const newPassword of ['password1', 'qwerty123', 'carol2024']) {
      // A wrong current password would be a 403; the weak new one is refused first.
      const res = await post(app, '/account/password', { currentPassword: 'not-her-password', newPassword }, home);
      expect(res.status, newPassword).toBe(400);
      expect(res.body.error).toBe('weak_password');
      expect(res.body.feedback).toMatchObject({ warning: expect.any(String), suggestions: expect.any(Array) });
      expect(res.body.feedback.warning.length + res.body.feedback.suggestions.length).toBeGreaterThan(0);
    }
    const same = await post(app, '/account/password', { currentPassword: user.password, newPassword: user.password }, home);
    expect(same.status).toBe(400);
    expect(same.body.error).toBe('weak_password');
    expect(same.body.feedback.warning).toMatch(/differ/);

    // A strong new password with the wrong current one: now the app's own check answers.
    const forbidden = await post(app, '/account/password', { currentPassword: 'not-her-password', newPassword: NEW_PASSWORD }, home);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({ error: 'forbidden' });
    // None of these changed anything or locked anything.
    expect(await exchange.users.authenticate(user.email, user.password)).toBeDefined();
    expect((await withdraw(app, home)).status).toBe(201);
  });

  it('after a change: withdrawals 423 for 24 h, the security page says why, other sessions end', async () => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.41');
    const phone = await knownDevice(app, user, '192.0.2.42');
    const sameDevice = { ...home, token: (await loginAndEnrol(app, user, { ip: home.ip, cookie: home.cookie })).token };
    expect((await withdraw(app, home)).status).toBe(201);

    const before = Date.now();
    const res = await post(app, '/account/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, home);
    const after = Date.now();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });

    const locked = await withdraw(app, home);
    const until = expectLocked(locked, 24, before, after);
    expect(exchange.wallet.byUser(userOf(exchange, user)!.id)).toHaveLength(1);

    const security = await get(app, '/account/security', home);
    expect(security.status).toBe(200);
    expect(security.body.withdrawalsLockedUntil).toBe(locked.body.lockedUntil);
    expect(security.body.reasons).toHaveLength(1);
    const [reason] = security.body.reasons;
    expect(reason).toEqual({ kind: 'password', at: expect.any(String), until: new Date(until).toISOString(), detail: expect.any(String) });
    expect(Date.parse(reason.at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(reason.at)).toBeLessThanOrEqual(after);
    expect(security.body.knownDevices.length).toBeGreaterThanOrEqual(2);

    // Every other session of the account ended, on other devices and on this one.
    for (const other of [phone, sameDevice]) {
      const res = await get(app, '/account/security', other);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'unauthorized' });
      expect((await withdraw(app, other)).status).toBe(401);
    }
    // The old password no longer logs in; the new one does, from the known device without step-up.
    expect((await post(app, '/auth/login', { email: user.email, password: user.password }, home)).status).toBe(401);
    const again = await post(app, '/auth/login', { email: user.email, password: NEW_PASSWORD }, home);
    expect(again.status).toBe(200);
    // A new session does not lift the lock.
    expect((await withdraw(app, { token: again.body.token })).status).toBe(423);
  });

  it('a later, shorter change never shortens the lock; both reasons are listed', async () => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.43');
    expect((await post(app, '/account/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, home)).status).toBe(200);
    const first = (await withdraw(app, home)).body.lockedUntil as string;
    expect((await changeEmail(exchange, 'carol.moved@example.test', home)).status).toBe(200);
    const second = await withdraw(app, home);
    expect(second.status).toBe(423);
    expect(second.body.lockedUntil).toBe(first);
    const security = await get(app, '/account/security', home);
    expect(security.body.withdrawalsLockedUntil).toBe(first);
    expect(security.body.reasons.map((r: { kind: string }) => r.kind)).toEqual(['password', 'email']);
  });
});

describe('POST /account/api-keys', () => {
  it('a key without withdraw permission does not lock withdrawals; one with it does', async () => {
    const { cast, app } = await start();
    const home = await knownDevice(app, cast.frank, '192.0.2.50');
    for (const permissions of [['read'], ['read', 'trade']]) {
      const res = await post(app, '/account/api-keys', { permissions }, home);
      expect(res.status).toBe(201);
    }
    expect((await withdraw(app, home)).status).toBe(201);
    expect((await get(app, '/account/security', home)).body).toMatchObject({ withdrawalsLockedUntil: null, reasons: [] });

    const before = Date.now();
    expect((await post(app, '/account/api-keys', { permissions: ['withdraw'] }, home)).status).toBe(201);
    const after = Date.now();
    expectLocked(await withdraw(app, home), 24, before, after);
    const security = await get(app, '/account/security', home);
    expect(security.body.reasons.map((r: { kind: string }) => r.kind)).toEqual(['api-key']);
  });
});

describe('POST /account/email, then /account/email/confirm', () => {
  it('keeps the current device known under the new address', async () => {
    const { cast, app, exchange } = await start();
    const user = cast.leakedAlice;
    const home = await knownDevice(app, user, '192.0.2.60');
    const moved = 'alice.moved@example.test';
    const before = Date.now();
    expect((await changeEmail(exchange, moved, home)).status).toBe(200);
    const after = Date.now();
    expectLocked(await withdraw(app, home), 6, before, after);

    // Right after an email change, a login to the new address from an unknown device needs 2FA...
    const stranger = await post(app, '/auth/login', { email: moved, password: user.password }, { ip: '203.0.113.60' });
    expectStepUp(stranger);
    // ...but the device that made the change is still known: straight in, no step-up.
    const back = await post(app, '/auth/login', { email: moved, password: user.password }, home);
    expect(back.status, back.text).toBe(200);
    expect(back.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // And a credential change from it needs no step-up either.
    const res = await post(app, '/account/api-keys', { permissions: ['read'] }, { ...home, token: back.body.token });
    expect(res.status).toBe(201);
    // The old address is no account any more.
    expect((await post(app, '/auth/login', { email: user.email, password: user.password }, home)).status).toBe(401);
  });
});

describe('when the store cannot answer', () => {
  /** A memory store whose every call fails while `down` is set, like a Redis that went away. */
  function flakyStore() {
    const inner = new MemoryStore();
    const state = { down: false };
    const fail = (operation: string) => Promise.reject(new StoreUnavailableError({ backend: 'flaky', operation, reason: 'disconnected' }));
    const guard =
      <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
      (...args: A) =>
        state.down ? fail(operation) : fn(...args);
    const store: Store = {
      name: 'flaky',
      read: guard('read', (r) => inner.read(r)),
      add: guard('add', (i) => inner.add(i)),
      reset: guard('reset', (c) => inner.reset(c)),
      set: guard('set', (k, v, t) => inner.set(k, v, t)),
      take: guard('take', (k) => inner.take(k)),
      delete: guard('delete', (k) => inner.delete(k)),
      increment: guard('increment', (k, t) => inner.increment(k, t)),
      getLock: guard('getLock', (k, n) => inner.getLock(k, n)),
      extendLock: guard('extendLock', (k, r, n, m) => inner.extendLock(k, r, n, m)),
      clearLock: guard('clearLock', (k, n) => inner.clearLock(k, n)),
      close: () => inner.close(),
    };
    return { store, state };
  }

  it('withdrawals → 503, never allowed; credential changes → 503, never unlocked', async () => {
    const { store, state } = flakyStore();
    const { cast, app, exchange } = await start({ shieldOptions: { store } });
    const user = cast.carol;
    const home = await knownDevice(app, user, '192.0.2.70');
    expect((await withdraw(app, home)).status).toBe(201);

    state.down = true;
    const refused = await withdraw(app, home);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: 'unavailable' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const change = await post(app, '/account/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, home);
    expect(change.status).toBe(503);
    expect(change.body).toEqual({ error: 'unavailable' });
    expect(await exchange.users.authenticate(user.email, user.password)).toBeDefined();
    const security = await get(app, '/account/security', home);
    expect(security.status).toBe(503);
    expect(security.body).toEqual({ error: 'unavailable' });
    expect(exchange.wallet.byUser(userOf(exchange, user)!.id)).toHaveLength(1);

    state.down = false;
    expect((await withdraw(app, home)).status).toBe(201);
    await store.close();
  });
});

describe('TOTP codes used by these tests', () => {
  it('come from otplib and pass the example’s own check', async () => {
    const user: Cast['carol'] = testUsers().carol;
    expect(await verifyTotp(user.totpSecret!, await code(user))).toBe(true);
    expect(await verifyTotp(user.totpSecret!, await wrongCode(user))).toBe(false);
  });
});
