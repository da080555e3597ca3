import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { accountApp } from '../support/account-app.js';
import { deviceCookie } from '../support/login-app.js';

const HOUR = 3_600_000;
let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

function setup(extra = {}) {
  const clock = { now: Date.parse('2026-11-23T12:00:00Z') };
  const t = accountApp({ now: () => clock.now, ...extra });
  close = () => t.shield.close();
  return { ...t, clock };
}

type App = ReturnType<typeof setup>['app'];

/** Log in from a device that is then known; returns its bearer token and device cookie. */
async function signIn(app: App, email = 'alice@example.com', password = 'Tr0ub4dor&3-horse', code = '111111') {
  let res = await request(app).post('/login').send({ email, password });
  // The strict posture steps up every new device: answer with the user's second factor.
  if (res.body.error === 'step_up_required') res = await request(app).post('/login/verify').send({ challenge: res.body.challenge, code });
  expect(res.status).toBe(200);
  return { auth: `Bearer ${res.body.token}`, cookie: deviceCookie(res) as string };
}

async function post(app: App, path: string, s: { auth: string; cookie?: string }, body: object = {}) {
  const r = request(app).post(path).set('Authorization', s.auth);
  if (s.cookie) r.set('Cookie', s.cookie);
  return r.send(body);
}

const withdraw = (app: App, s: { auth: string; cookie?: string }) => post(app, '/wallet/withdrawals', s, { amount: '0.5', address: 'bc1qxyz' });

describe('withdrawal locks after credential changes', () => {
  it.each([
    ['password', '/account/password', { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'violet-kettle-orbit-73' }, 24],
    ['email', '/account/email', { email: 'alice@new.example' }, 6],
    ['2fa-reset', '/account/2fa/reset', {}, 24],
    ['api-key (withdraw)', '/account/api-keys', { permissions: ['read', 'withdraw'] }, 24],
  ])('%s locks withdrawals for its duration', async (_kind, path, body, hours) => {
    const { app, clock } = setup();
    const s = await signIn(app);
    const changed = await post(app, path, s, body);
    expect(changed.status).toBeLessThan(300);
    const locked = await withdraw(app, s);
    expect(locked.status).toBe(423);
    expect(locked.body.error).toBe('withdrawals_locked');
    expect(Date.parse(locked.body.lockedUntil)).toBe(clock.now + hours * HOUR);
    expect(Number(locked.headers['retry-after'])).toBe(hours * 3600);
    clock.now += hours * HOUR - 1000;
    expect((await withdraw(app, s)).status).toBe(423);
    expect(Number((await withdraw(app, s)).headers['retry-after'])).toBe(1);
    clock.now += 1000;
    expect((await withdraw(app, s)).status).toBe(201);
  });

  it('does not lock for an API key without withdraw permission', async () => {
    const { app } = setup();
    const s = await signIn(app);
    expect((await post(app, '/account/api-keys', s, { permissions: ['read'] })).status).toBe(201);
    expect((await withdraw(app, s)).status).toBe(201);
  });

  it('does not lock when the app refuses the change', async () => {
    const { app } = setup();
    const s = await signIn(app);
    const res = await post(app, '/account/password', s, { currentPassword: 'not-it', newPassword: 'violet-kettle-orbit-73' });
    expect(res.status).toBe(403);
    expect((await withdraw(app, s)).status).toBe(201);
  });

  it('runs from the latest change and is never shortened by a shorter one', async () => {
    const { app, clock, shield } = setup({ credentialChange: { maxSessionAgeSec: 7 * 86_400 } });
    const s = await signIn(app);
    const t0 = clock.now;
    await post(app, '/account/password', s, { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'violet-kettle-orbit-73' });
    clock.now = t0 + 10 * HOUR;
    const emailChange = await post(app, '/account/email', s, { email: 'alice@new.example' });
    expect(emailChange.status, JSON.stringify(emailChange.body)).toBe(200); // 6 h: t0+16h
    expect((await shield.locks.status('u1')).until?.getTime()).toBe(t0 + 24 * HOUR);
    clock.now = t0 + 20 * HOUR;
    expect((await post(app, '/account/2fa/reset', s, {})).status).toBe(200);
    const status = await shield.locks.status('u1');
    expect(status.until?.getTime()).toBe(t0 + 44 * HOUR);
    expect(status.reasons.map((r) => r.kind)).toEqual(['password', 'email', '2fa-reset']);
  });

  it('locks for longer when the change itself was risky (needed step-up)', async () => {
    const { app, clock, issue } = setup();
    // A session on a device the shield has never seen: the change needs a second factor.
    const s = { auth: `Bearer ${issue('u2')}` };
    const first = await post(app, '/account/email', s, { email: 'bob@new.example' });
    expect(first.status).toBe(401);
    expect(first.body.error).toBe('step_up_required');
    const again = await post(app, '/account/email', s, { email: 'bob@new.example', challenge: first.body.challenge, code: '222222' });
    expect(again.status).toBe(200);
    const locked = await withdraw(app, s);
    expect(Date.parse(locked.body.lockedUntil)).toBe(clock.now + 24 * HOUR);
  });

  it('honours configured durations and custom change kinds', async () => {
    const { shield } = setup({ locks: { durations: { password: { hours: 72 }, 'withdrawal-address': { hours: 48 } } } });
    expect(() => shield.credentialChange('withdrawal-address', { getUser: () => undefined, verifySecondFactor: () => false })).not.toThrow();
    expect(() => shield.credentialChange('nickname', { getUser: () => undefined, verifySecondFactor: () => false })).toThrow(/locks\.durations/);
  });

  it('shows the lock and its reasons on the security page', async () => {
    const { app } = setup();
    const s = await signIn(app);
    await post(app, '/account/2fa/reset', s, {});
    const res = await request(app).get('/account/security').set('Authorization', s.auth);
    expect(res.body.withdrawalsLockedUntil).toEqual(expect.any(String));
    expect(res.body.reasons).toEqual([expect.objectContaining({ kind: '2fa-reset', detail: '2fa-reset changed' })]);
  });
});

describe('admin lock API', () => {
  it('locks, reads and unlocks with reason and actor, and emits events', async () => {
    const { app, shield, events, clock } = setup();
    const s = await signIn(app);
    const locked = await shield.locks.lock('u1', { hours: 12, reason: 'support ticket 4411', actor: 'ops:mia' });
    expect(locked.until?.getTime()).toBe(clock.now + 12 * HOUR);
    expect(locked.reasons[0]).toMatchObject({ kind: 'admin', detail: 'support ticket 4411', actor: 'ops:mia' });
    expect((await withdraw(app, s)).status).toBe(423);
    await shield.locks.unlock('u1', { reason: 'owner verified by phone', actor: 'ops:mia' });
    expect((await shield.locks.status('u1')).locked).toBe(false);
    expect((await withdraw(app, s)).status).toBe(201);
    expect(events.locked.at(-1)).toMatchObject({ userId: 'u1' });
    expect(events.unlocked.at(-1)).toMatchObject({ userId: 'u1', reason: 'owner verified by phone', actor: 'ops:mia' });
  });

  it('rejects bad admin input with a clear error', async () => {
    const { shield } = setup();
    await expect(shield.locks.lock('u1', { hours: -1, reason: 'x', actor: 'y' })).rejects.toThrow(/hours/);
    await expect(shield.locks.lock('u1', { hours: 1, reason: '', actor: 'y' })).rejects.toThrow(/reason/);
    await expect(shield.locks.unlock('', { reason: 'x', actor: 'y' })).rejects.toThrow(/userId/);
    // One named error with a fix, never a bare RangeError or TypeError.
    const bad = shield.locks.lock('u1', { hours: 9000, reason: 'x', actor: 'y' });
    await expect(bad).rejects.toMatchObject({ name: 'ShieldArgumentError', code: 'INVALID_ARGUMENT' });
    await expect(shield.locks.lock('u1', { hours: 9000, reason: 'x', actor: 'y' })).rejects.toThrow(/Fix: /);
    await expect(shield.locks.lock('u1', { hours: 1, reason: 'x', actor: 'y', extra: 1 } as never)).rejects.toThrow(/Unknown option/);
  });
});

describe('fail closed', () => {
  it('answers 503, never the withdrawal, when the lock store cannot answer', async () => {
    class BrokenLocks extends MemoryStore {
      broken = false;
      override async getLock(key: string, now: number) {
        if (this.broken) throw new Error('store unavailable');
        return super.getLock(key, now);
      }
    }
    const store = new BrokenLocks();
    const { app } = setup({ store });
    const s = await signIn(app);
    store.broken = true;
    const res = await withdraw(app, s);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('unavailable');
    store.broken = false;
    expect((await withdraw(app, s)).status).toBe(201);
    await store.close();
  });
});

describe('credential-change guard', () => {
  it('demands step-up for a change from a device it does not know', async () => {
    const { app, issue, decisions } = { ...setup(), decisions: undefined };
    void decisions;
    const s = { auth: `Bearer ${issue('u1')}` };
    const res = await post(app, '/account/2fa/reset', s, {});
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('step_up_required');
    expect(res.headers['www-authenticate']).toContain('insufficient_user_authentication');
    const wrong = await post(app, '/account/2fa/reset', s, { challenge: res.body.challenge, code: '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_code');
  });

  it("does not accept one user's challenge for another user's change", async () => {
    const { app, issue } = setup();
    const a = { auth: `Bearer ${issue('u1')}` };
    const b = { auth: `Bearer ${issue('u2')}` };
    const challengeA = (await post(app, '/account/2fa/reset', a, {})).body.challenge;
    const res = await post(app, '/account/2fa/reset', b, { challenge: challengeA, code: '111111' });
    expect(res.status).toBe(401);
  });

  it('asks for step-up when the session is stale, even on a known device', async () => {
    const { app, clock } = setup();
    const s = await signIn(app);
    clock.now += 2 * HOUR;
    const res = await post(app, '/account/2fa/reset', s, {});
    expect(res.body.error).toBe('step_up_required');
  });

  it('refuses a weak new password with zxcvbn feedback', async () => {
    const { app } = setup();
    const s = await signIn(app);
    const res = await post(app, '/account/password', s, { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'alice2024' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('weak_password');
    expect(res.body.feedback.warning).toEqual(expect.any(String));
    expect(res.body.feedback.suggestions.length).toBeGreaterThan(0);
  });

  it('uses the current password as a zxcvbn input and refuses reusing it', async () => {
    const { app } = setup();
    const s = await signIn(app);
    const same = await post(app, '/account/password', s, { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'Tr0ub4dor&3-horse' });
    expect(same.status).toBe(400);
    expect(same.body.error).toBe('weak_password');
    const variant = await post(app, '/account/password', s, { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'Tr0ub4dor&3-horse1' });
    expect(variant.status).toBe(400);
  });

  it('refuses a breached new password', async () => {
    const { app } = setup({ breachedPasswords: { isBreached: async (p: string) => p === 'violet-kettle-orbit-73' } });
    const s = await signIn(app);
    const res = await post(app, '/account/password', s, { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'violet-kettle-orbit-73' });
    expect(res.status).toBe(400);
    expect(res.body.feedback.warning).toMatch(/breach/);
  });

  it('answers bad input on every guarded route with a JSON 400, never 500', async () => {
    const { app } = setup();
    const s = await signIn(app);
    const cases: [string, unknown][] = [
      ['/account/password', { currentPassword: 'x', newPassword: 5 }],
      ['/account/password', { currentPassword: ['x'], newPassword: 'violet-kettle-orbit-73' }],
      ['/account/password', {}],
      ['/account/password', { newPassword: 'violet-kettle-orbit-73', challenge: 'x' }],
      ['/account/email', { email: 'a@b.c', challenge: 3, code: '1' }],
      ['/account/2fa/reset', { challenge: { $ne: 1 }, code: '1' }],
      ['/account/api-keys', { permissions: ['withdraw'], code: [] }],
      ['/account/password', JSON.parse('{"__proto__": {"newPassword": "violet-kettle-orbit-73"}}')],
    ];
    for (const [path, body] of cases) {
      const res = await post(app, path, s, body as object);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    for (const path of ['/account/password', '/account/email', '/account/2fa/reset', '/wallet/withdrawals']) {
      const malformed = await request(app).post(path).set('Authorization', s.auth).set('Content-Type', 'application/json').send('{"a":');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('bad_request');
      const anonymous = await request(app).post(path).send({});
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('unauthorized');
    }
  });
});

describe('the stolen-session story', () => {
  it('an attacker with a stolen browser session changes the password: withdrawals stay locked, the owner is told, other sessions end', async () => {
    const { app, clock, events, sessions } = setup({ posture: 'strict' });
    // The owner signs in on their laptop and their phone.
    const laptop = await signIn(app);
    const phone = await signIn(app);
    // Malware copies the laptop's bearer token and device cookie.
    const stolen = { ...laptop };
    const change = await post(app, '/account/password', stolen, {
      currentPassword: 'Tr0ub4dor&3-horse',
      newPassword: 'attacker-chosen-Vq93!x',
    });
    expect(change.status).toBe(200);
    // The owner gets told: the event carries the app's user id for the notification email.
    expect(events.changed).toEqual([expect.objectContaining({ userId: 'u1', kind: 'password' })]);
    expect(events.locked.at(-1)).toMatchObject({ userId: 'u1' });
    // Every other session (the phone) is revoked; the attacker's stays.
    expect(sessions.has(phone.auth.slice(7))).toBe(false);
    expect((await withdraw(app, phone)).status).toBe(401);
    // Every withdrawal the attacker tries during the lock period is refused.
    for (let h = 0; h < 24; h += 3) {
      clock.now += 3 * HOUR - 1;
      const res = await withdraw(app, stolen);
      expect(res.status, `after ${h + 3} h`).toBe(423);
    }
    // The attacker's login from elsewhere with the new password meets step-up (a new device,
    // in the default posture) — and cannot pass it without the owner's second factor.
    const relogin = await request(app).post('/login').send({ email: 'alice@example.com', password: 'attacker-chosen-Vq93!x' });
    expect(relogin.body.error).toBe('step_up_required');
  });
});
