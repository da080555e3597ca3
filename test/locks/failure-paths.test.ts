import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import type { LockReason } from '../../src/index.js';
import { accountApp } from '../support/account-app.js';
import { deviceCookie } from '../support/login-app.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

/** A real memory store with switches to make single operations fail, as a dying store would. */
class FlakyStore extends MemoryStore {
  /** Which lock records cannot be written: `holds:` (pre-change holds) or `lock:` (locks). */
  failExtend: ((key: string) => boolean) | undefined;
  override async extendLock(key: string, reason: LockReason, now: number, maxReasons: number) {
    if (this.failExtend?.(key)) throw new Error('store unavailable');
    return super.extendLock(key, reason, now, maxReasons);
  }
}

const HOUR = 3_600_000;

function setup(extra = {}) {
  const store = new FlakyStore();
  const clock = { now: Date.parse('2026-11-23T12:00:00Z') };
  const t = accountApp({ store, now: () => clock.now, logger: { warn: () => {}, error: () => {} }, ...extra });
  close = async () => {
    await t.shield.close();
    await store.close();
  };
  return { ...t, store, clock };
}

type App = ReturnType<typeof setup>['app'];

async function signIn(app: App) {
  const res = await request(app).post('/login').send({ email: 'alice@example.com', password: 'Tr0ub4dor&3-horse' });
  return { auth: `Bearer ${res.body.token}`, cookie: deviceCookie(res) as string };
}

const post = (app: App, path: string, s: { auth: string; cookie?: string; ip?: string }, body: object) => {
  const r = request(app).post(path).set('Authorization', s.auth);
  if (s.ip) r.set('X-Forwarded-For', s.ip);
  if (s.cookie) r.set('Cookie', s.cookie);
  return r.send(body);
};

const change = { currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'violet-kettle-orbit-73' };

describe('credential changes when the lock store fails', () => {
  const withdraw = (app: App, s: { auth: string }) => post(app, '/wallet/withdrawals', s, { amount: '1', address: 'x' });

  it('refuses the change (503) when withdrawals cannot even be held, and the app never runs', async () => {
    const { app, store, users } = setup();
    const s = await signIn(app);
    store.failExtend = (key) => key.startsWith('holds:');
    const res = await post(app, '/account/password', s, change);
    expect(res.status).toBe(503);
    expect(users.get('u1')?.password).toBe('Tr0ub4dor&3-horse');
  });

  it('holds withdrawals for the full 24 h, still notifies and revokes, when the lock itself cannot be recorded', async () => {
    const { app, store, events, sessions, clock } = setup();
    const s = await signIn(app);
    const other = await signIn(app);
    store.failExtend = (key) => key.startsWith('lock:');
    const changedAt = clock.now;
    const res = await post(app, '/account/password', s, change);
    expect(res.status).toBe(200);
    const locked = await withdraw(app, s);
    expect(locked.status).toBe(423);
    expect(Date.parse(locked.body.lockedUntil)).toBeGreaterThanOrEqual(changedAt + 24 * HOUR);
    expect(events.changed).toEqual([expect.objectContaining({ userId: 'u1', kind: 'password', withdrawalsLockedUntil: Date.parse(locked.body.lockedUntil) })]);
    expect(sessions.has(other.auth.slice(7))).toBe(false);
    // Still held a minute before the full duration is over (the old 15-minute hold lapsed long before).
    clock.now = changedAt + 24 * HOUR - 60_000;
    expect((await withdraw(app, s)).status).toBe(423);
  });

  it('lifts the hold when the app refuses the change', async () => {
    const { app } = setup();
    const s = await signIn(app);
    const refused = await post(app, '/account/password', s, { currentPassword: 'wrong', newPassword: 'violet-kettle-orbit-73' });
    expect(refused.status).toBe(403);
    expect((await withdraw(app, s)).status).toBe(201);
  });

  it("one change's refusal never lifts another change's hold, nor shortens a lock", async () => {
    const { app, store, clock, shield } = setup();
    const s = await signIn(app);
    await shield.locks.lock('u1', { hours: 1, reason: 'support ticket', actor: 'ops' });
    // A password change goes through but its lock cannot be recorded: only its hold protects.
    store.failExtend = (key) => key.startsWith('lock:');
    expect((await post(app, '/account/password', s, change)).status).toBe(200);
    store.failExtend = undefined;
    // Then an email change the app refuses (400) settles its own hold, not the first one's.
    const refused = await post(app, '/account/email', s, { email: 42 });
    expect(refused.status).toBe(400);
    clock.now += 23 * HOUR;
    expect((await withdraw(app, s)).status).toBe(423);
  });

  it('keeps the full hold when the app answers 5xx: the change may have happened', async () => {
    const { app, clock } = setup();
    const s = await signIn(app);
    const failed = await post(app, '/account/password', s, { ...change, explode: true });
    expect(failed.status).toBe(500);
    clock.now += 24 * HOUR - 60_000;
    expect((await withdraw(app, s)).status).toBe(423);
  });
});

describe('second-factor guessing on credential changes', () => {
  // The per-account second-factor budget has its own tests: test/login/second-factor-budget.test.ts.
  it('counts failed change codes against the source IP like failed logins', async () => {
    const { app, issue } = setup({ velocity: { ip: { limit: 4 } } });
    const s = { auth: `Bearer ${issue('u1')}` };
    let last = 0;
    for (let i = 0; i < 6; i++) {
      const ch = (await post(app, '/account/email', s, { email: 'x@y.z' })).body.challenge;
      last = ch ? (await post(app, '/account/email', s, { email: 'x@y.z', challenge: ch, code: '000000' })).status : 429;
    }
    expect(last).toBe(429);
  });
});

describe('known devices after an email change', () => {
  it('lists the current device under the new address', async () => {
    const { app, shield } = setup();
    const s = await signIn(app);
    expect(await shield.knownDevices('alice@example.com')).toHaveLength(1);
    expect((await post(app, '/account/email', s, { email: 'alice@new.example' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20)); // the index is written off the critical path
    const devices = await shield.knownDevices('alice@new.example');
    expect(devices).toHaveLength(1);
    expect(devices[0]?.lastSeen).toBeInstanceOf(Date);
  });
});
