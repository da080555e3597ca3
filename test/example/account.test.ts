import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { SessionStore } from '../../examples/exchange-server/sessions.js';
import { totpCode, verifyTotp } from '../../examples/exchange-server/totp.js';
import { UserStore } from '../../examples/exchange-server/users.js';
import { type Cast, expectPasswordChecks, get, loginAndEnrol, post, startExchange, TEST_SCRYPT_COST, testUsers } from './helpers.js';

let exchange: ExchangeApp | undefined;
afterEach(async () => {
  await exchange?.close();
  exchange = undefined;
});

/**
 * A user signed in as a real client is: logged in on this device and keeping the device cookie
 * the login set, so `me` (token + cookie) is a known device with a fresh session and the
 * shield's guards let plain credential changes through. Step-up paths are in guards.test.ts.
 */
async function signedIn(pick: (cast: Cast) => Cast[keyof Cast] = (c) => c.carol) {
  const cast = testUsers();
  exchange = await startExchange(cast);
  const user = pick(cast);
  const client = { ip: '192.0.2.20' };
  const session = await loginAndEnrol(exchange.app, user, client);
  expect(session.cookie).toMatch(/^as_dev=/);
  const me = { token: session.token, cookie: session.cookie };
  return { cast, user, app: exchange.app, ...session, client, me };
}

describe('authenticated routes', () => {
  it('GET /healthz and GET /account/security answer their contract shapes', async () => {
    const before = Date.now();
    const { app, token, cookie } = await signedIn();
    const health = await get(app, '/healthz');
    expect(health.status).toBe(200);
    expect(health.body.ok).toBe(true);
    const res = await get(app, '/account/security', { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      withdrawalsLockedUntil: null,
      reasons: [],
      knownDevices: [{ id: expect.stringMatching(/^[A-Za-z0-9_-]{8}$/), lastSeen: expect.any(String) }],
    });
    const [device] = res.body.knownDevices as { id: string; lastSeen: string }[];
    expect(Date.parse(device!.lastSeen)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(device!.lastSeen)).toBeLessThanOrEqual(Date.now());
    // The page shows a keyed id, not the device id the cookie carries.
    expect(cookie).not.toContain(device!.id);
  });

  it('POST /account/password: 403 on a wrong current password, 400 weak_password, 200 and other sessions end', async () => {
    const { app, user, token, cookie, client, me } = await signedIn();
    const second = await loginAndEnrol(app, user, { ...client, cookie });

    await expectPasswordChecks(app, user, me);

    const newPassword = 'orbit-Lantern-quietly-58-mosaic';
    const ok = await post(app, '/account/password', { currentPassword: user.password, newPassword }, me);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true });
    expect((await get(app, '/account/security', { token })).status).toBe(200);
    expect((await get(app, '/account/security', { token: second.token })).status).toBe(401);

    expect((await post(app, '/auth/login', { email: user.email, password: user.password }, { ...client, cookie })).status).toBe(401);
    expect((await post(app, '/auth/login', { email: user.email, password: newPassword }, { ...client, cookie })).status).toBe(200);
  });

  it('POST /account/email then /account/email/confirm: the code sent to the new address moves the login', async () => {
    const { app, user, cookie, client, me } = await signedIn();
    const bad = await post(app, '/account/email', { email: 'not an email' }, me);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');

    const started = await post(app, '/account/email', { email: 'carol.new@example.test' }, me);
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ status: 'verification_sent' });
    const verificationCode = exchange!.outbox.latestCode('carol.new@example.test');
    expect(verificationCode).toMatch(/^\d{6}$/);
    // Nothing moved yet: the change is the confirm.
    expect((await post(app, '/auth/login', { email: user.email, password: user.password }, { ...client, cookie })).status).toBe(200);
    const confirmed = await post(app, '/account/email/confirm', { verificationCode }, me);
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toEqual({ ok: true, email: 'carol.new@example.test' });
    expect((await post(app, '/auth/login', { email: 'carol.new@example.test', password: user.password }, { ...client, cookie })).status).toBe(200);
    expect((await post(app, '/auth/login', { email: user.email, password: user.password }, { ...client, cookie })).status).toBe(401);
  });

  it('POST /account/2fa/reset: a new secret that the next step-up accepts', async () => {
    const { app, user, me } = await signedIn((c) => c.leakedAlice);
    const res = await post(app, '/account/2fa/reset', undefined, me);
    expect(res.status).toBe(200);
    expect(res.body.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(res.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    // From a new device the leaked account is challenged; the old secret no longer answers it.
    const fresh = { ip: '192.0.2.99' };
    const challenged = await post(app, '/auth/login', { email: user.email, password: user.password }, fresh);
    expect(challenged.body.error).toBe('step_up_required');
    const old = await post(app, '/auth/login/verify', { challenge: challenged.body.challenge, code: await totpCode(user.totpSecret) }, fresh);
    expect(old.status).toBe(401);
    const ok = await post(app, '/auth/login/verify', { challenge: challenged.body.challenge, code: await totpCode(res.body.totpSecret) }, fresh);
    expect(ok.status).toBe(200);
  });

  it('POST /account/api-keys {permissions} → 201 {id}', async () => {
    const { app, me } = await signedIn();
    const res = await post(app, '/account/api-keys', { permissions: ['read', 'withdraw'] }, me);
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof res.body.secret).toBe('string');
    expect(exchange!.apiKeys.byUser(exchange!.users.findByEmail('carol@example.test')!.id)).toHaveLength(1);
    for (const permissions of [[], ['admin'], ['read', 'read'], 'read', [1]]) {
      expect((await post(app, '/account/api-keys', { permissions }, me)).status).toBe(400);
    }
  });

  it('POST /wallet/withdrawals {amount, address} → 201 {id}, amounts as numbers or decimal strings', async () => {
    // Withdrawals need a session, not a known device: the lock is what guards them.
    const { app, token } = await signedIn();
    const address = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';
    for (const amount of ['0.00000001', '12.5', 3, 0.25, '999999999999.123456789012345678']) {
      const res = await post(app, '/wallet/withdrawals', { amount, address }, { token });
      expect(res.status, String(amount)).toBe(201);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const recorded = exchange!.wallet.byUser(exchange!.users.findByEmail('carol@example.test')!.id);
    expect(recorded.map((w) => w.amount)).toEqual(['0.00000001', '12.5', '3', '0.25', '999999999999.123456789012345678']);
  });
});

describe('building blocks', () => {
  it('UserStore: right password, wrong password and unknown address', async () => {
    const users = await UserStore.create([{ email: 'Mia@Example.test', password: 'pässwörd-ünïcode', totpSecret: 'U75W2RZ6LKUOPKY6XQ4BYEQE3HLCT6G6' }], {
      scryptCost: TEST_SCRYPT_COST,
    });
    expect(await users.authenticate('mia@example.test', 'pässwörd-ünïcode')).toBeDefined();
    // NFC and NFD spellings of one password are one password.
    expect(await users.authenticate('mia@example.test', 'pässwörd-ünïcode'.normalize('NFD'))).toBeDefined();
    expect(await users.authenticate('mia@example.test', 'wrong')).toBeUndefined();
    expect(await users.authenticate('nobody@example.test', 'pässwörd-ünïcode')).toBeUndefined();
    await expect(UserStore.create([], { scryptCost: 1000 })).rejects.toThrow(/power of two/);
  });

  it('SessionStore: hashed tokens, expiry, revokeOthers keeps the given session', () => {
    let now = 1_000_000;
    const sessions = new SessionStore({ ttlSec: 60, now: () => now });
    const a = sessions.issue('u1');
    const b = sessions.issue('u1');
    const c = sessions.issue('u2');
    expect(sessions.lookup(a)?.userId).toBe('u1');
    expect(sessions.lookup(a)?.tokenHash).not.toBe(a);
    expect(sessions.revokeOthers('u1', b)).toBe(1);
    expect(sessions.lookup(a)).toBeUndefined();
    expect(sessions.lookup(b)?.userId).toBe('u1');
    expect(sessions.lookup(c)?.userId).toBe('u2');
    now += 61_000;
    expect(sessions.lookup(b)).toBeUndefined();
    expect(sessions.count('u1')).toBe(0);
    for (const junk of [undefined, '', 'x', 42, `${a}x`]) expect(sessions.lookup(junk)).toBeUndefined();
  });

  it('TOTP: current code and one step either side pass, others and junk fail', async () => {
    const secret = 'U75W2RZ6LKUOPKY6XQ4BYEQE3HLCT6G6';
    const now = Date.now();
    expect(await verifyTotp(secret, await totpCode(secret, now))).toBe(true);
    expect(await verifyTotp(secret, await totpCode(secret, now - 30_000))).toBe(true);
    expect(await verifyTotp(secret, await totpCode(secret, now - 120_000))).toBe(false);
    for (const junk of ['', '12345', '1234567', 'abcdef', '12 345', '１２３４５６']) expect(await verifyTotp(secret, junk)).toBe(false);
  });
});
