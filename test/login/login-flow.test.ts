import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { storeKeys } from '../../src/stores/key-layout.js';
import { deviceCookie, loginApp } from '../support/login-app.js';

const users = {
  'alice@example.com': { id: 'u1', password: 'correct horse battery', code: '111111' },
  'bob@example.com': { id: 'u2', password: 'hunter2-but-longer', code: '222222' },
};
const leaked = ['alice@example.com'];

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

function setup(extra = {}) {
  const t = loginApp({ leakedAddresses: leaked, ...extra }, users);
  cleanup = () => t.shield.close();
  return t;
}

const from = (ip: string) => ({ 'X-Forwarded-For': ip });

/** Log in through step-up once so the device becomes known; returns its cookie. */
async function enrolDevice(app: Parameters<typeof request>[0], email: string, password: string, code: string, ip = '198.51.100.9') {
  const first = await request(app).post('/login').set(from(ip)).send({ email, password });
  if (first.status === 200) return deviceCookie(first) as string;
  expect(first.body.error).toBe('step_up_required');
  const verified = await request(app).post('/login/verify').set(from(ip)).send({ challenge: first.body.challenge, code });
  expect(verified.status).toBe(200);
  return deviceCookie(verified) as string;
}

describe('login', () => {
  it('lets a low-risk login through to the app and sets a device cookie', async () => {
    const { app, decisions } = setup();
    const res = await request(app).post('/login').set(from('198.51.100.1')).send({ email: 'bob@example.com', password: 'hunter2-but-longer' });
    expect(res.status).toBe(200);
    expect(res.body.token).toBe('t-u2');
    expect(deviceCookie(res)).toMatch(/^as_dev=[\w-]{22}\.[\w-]{22}$/);
    expect(decisions.at(-1)).toMatchObject({ action: 'allow', kind: 'login', outcome: 'success' });
  });

  it('answers a wrong password with 401 invalid_credentials', async () => {
    const { app } = setup();
    const res = await request(app).post('/login').set(from('198.51.100.1')).send({ email: 'bob@example.com', password: 'nope' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_credentials' });
  });

  it('asks a leaked address on a new device for a second factor, with an RFC 9470 header', async () => {
    const { app, decisions } = setup();
    const res = await request(app).post('/login').set(from('198.51.100.2')).send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('step_up_required');
    expect(res.body.challenge).toMatch(/^[\w-]{43}$/);
    expect(res.headers['www-authenticate']).toContain('insufficient_user_authentication');
    const d = decisions.at(-1);
    expect(d?.action).toBe('challenge');
    expect(d?.reasons.map((r) => r.signal)).toEqual(expect.arrayContaining(['leaked-address', 'device.new']));
    // Decisions carry keyed ids only.
    expect(JSON.stringify(d)).not.toContain('alice');
    expect(JSON.stringify(d)).not.toContain('198.51.100.2');
  });

  it('lets a known device log in to a leaked address without step-up', async () => {
    const { app } = setup();
    const cookie = await enrolDevice(app, 'alice@example.com', 'correct horse battery', '111111');
    const res = await request(app)
      .post('/login')
      .set(from('198.51.100.3'))
      .set('Cookie', cookie)
      .send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    expect(res.body.token).toBe('t-u1');
  });

  it('decides for a known device on its short read exactly as on the whole one, and on everything again once the shield forgets it', async () => {
    const store = new MemoryStore();
    const { app, decisions } = setup({ store, posture: 'strict' });
    const cookie = await enrolDevice(app, 'alice@example.com', 'correct horse battery', '111111');
    const known = () => request(app).post('/login').set(from('198.51.100.3')).set('Cookie', cookie).send({ email: 'alice@example.com', password: 'correct horse battery' });
    // The first login reads everything and finds the device known; the next ones read only what scores it.
    const logins = [await known(), await known(), await known()];
    expect(logins.map((r) => r.status)).toEqual([200, 200, 200]);
    const [whole, ...short] = decisions.slice(-3).map((d) => ({ action: d.action, score: d.score, reasons: d.reasons, ids: d.ids }));
    expect(whole?.reasons.map((r) => r.signal)).toEqual(expect.arrayContaining(['leaked-address', 'device.known']));
    for (const d of short) expect(d).toEqual(whole);
    // Others fail from the same address: nothing a known device is scored on.
    for (let i = 0; i < 10; i++) await request(app).post('/login').set(from('198.51.100.3')).send({ email: 'bob@example.com', password: `wrong-${i}` });
    expect((await known()).status).toBe(200);
    // The shield forgets the device (its memory expired, or was cleared): the very next login
    // is scored on everything a whole read sees, the address's failures too, so it is refused.
    const ids = decisions.at(-1)?.ids;
    expect(await store.delete(storeKeys.knownDevice(ids?.account as string, ids?.device as string))).toBe(true);
    const forgotten = await known();
    expect(forgotten.body.error).toBe('too_many_attempts');
    expect(decisions.at(-1)?.reasons.map((r) => r.signal)).toEqual(expect.arrayContaining(['device.new', 'velocity.ip']));
    expect((await known()).body.error).toBe('too_many_attempts');
  });

  it('keys each attempt from one device afresh when its account or address changes', async () => {
    const { app, decisions } = setup();
    const cookie = await enrolDevice(app, 'bob@example.com', 'hunter2-but-longer', '222222');
    const attempt = async (email: string, ip: string, withCookie: boolean) => {
      const req = request(app).post('/login').set(from(ip));
      if (withCookie) req.set('Cookie', cookie);
      await req.send({ email, password: 'not-it' });
      const { account, ip: source, subnet } = decisions.at(-1)?.ids ?? {};
      return { account, ip: source, subnet };
    };
    // What a request without the cookie is keyed as: nothing of the device's is remembered there.
    const expected = {
      bobA: await attempt('bob@example.com', '198.51.100.40', false),
      aliceA: await attempt('alice@example.com', '198.51.100.40', false),
      bobB: await attempt('bob@example.com', '203.0.113.41', false),
    };
    // The same device, one attempt after another: each is keyed for what it is, never as the last one was.
    const seen = [];
    for (const [email, ip] of [['bob@example.com', '198.51.100.40'], ['bob@example.com', '198.51.100.40'], ['alice@example.com', '198.51.100.40'], ['bob@example.com', '203.0.113.41'], ['bob@example.com', '198.51.100.40']] as const) {
      seen.push(await attempt(email, ip, true));
    }
    expect(seen).toEqual([expected.bobA, expected.bobA, expected.aliceA, expected.bobB, expected.bobA]);
    expect(new Set(seen.map((s) => s.account)).size).toBe(2);
  });

  it('does not treat a device known for one account as known for another', async () => {
    const { app, decisions } = setup();
    const cookie = await enrolDevice(app, 'bob@example.com', 'hunter2-but-longer', '222222');
    const res = await request(app).post('/login').set('Cookie', cookie).send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(res.body.error).toBe('step_up_required');
    expect(decisions.at(-1)?.reasons.map((r) => r.signal)).toContain('device.new');
  });

  it('ignores a tampered device cookie', async () => {
    const { app } = setup();
    const cookie = await enrolDevice(app, 'alice@example.com', 'correct horse battery', '111111');
    const tampered = `${cookie.slice(0, -3)}AAA`;
    const res = await request(app).post('/login').set('Cookie', tampered).send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(res.body.error).toBe('step_up_required');
  });

  it('blocks a source after too many failures with 429 and Retry-After, before asking the app', async () => {
    const { app } = setup({ velocity: { ip: { limit: 6 } } });
    let last = await request(app).post('/login').set(from('203.0.113.5')).send({ email: 'x0@example.com', password: 'p' });
    for (let i = 1; i < 8; i++) {
      last = await request(app).post('/login').set(from('203.0.113.5')).send({ email: `x${i}@example.com`, password: 'p' });
    }
    expect(last.status).toBe(429);
    expect(last.body).toEqual({ error: 'too_many_attempts' });
    const retry = Number(last.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(900);
    // Another IP is unaffected.
    const other = await request(app).post('/login').set(from('192.0.2.77')).send({ email: 'bob@example.com', password: 'hunter2-but-longer' });
    expect(other.status).toBe(200);
  });

  it("steps up, never blocks, the owner of an attacked leaked account during a wave", async () => {
    const { app, decisions } = setup({ velocity: { account: { limit: 4 } }, wave: { minFailures: 3 } });
    for (let i = 1; i <= 6; i++) {
      await request(app).post('/login').set(from(`192.0.${i}.1`)).send({ email: 'alice@example.com', password: `guess-${i}` });
    }
    const owner = await request(app).post('/login').set(from('198.51.100.200')).send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(owner.status).toBe(401);
    expect(owner.body.error).toBe('step_up_required');
    const d = decisions.at(-1);
    expect(d?.score).toBeGreaterThanOrEqual(100);
    expect(d?.action).toBe('challenge');
    expect(d?.reasons.map((r) => r.signal)).toEqual(expect.arrayContaining(['velocity.account', 'wave', 'leaked-address', 'device.new']));
  });

  it('counts a /24 as one source', async () => {
    const { app } = setup({ velocity: { subnet: { limit: 6 } } });
    let last = await request(app).post('/login').set(from('203.0.113.1')).send({ email: 'y@example.com', password: 'p' });
    for (let i = 2; i < 10; i++) {
      last = await request(app).post('/login').set(from(`203.0.113.${i}`)).send({ email: `y${i}@example.com`, password: 'p' });
    }
    expect(last.status).toBe(429);
  });

  it('groups IPv6 clients by /64 and treats IPv4-mapped addresses as IPv4', async () => {
    const { app } = setup({ velocity: { subnet: { limit: 4 } } });
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const r = await request(app).post('/login').set(from(`2001:db8:aa:bb::${i}`)).send({ email: `v${i}@example.com`, password: 'p' });
      statuses.push(r.status);
    }
    expect(statuses.at(-1)).toBe(429);
    const otherPrefix = await request(app).post('/login').set(from('2001:db8:aa:cc::1')).send({ email: 'bob@example.com', password: 'hunter2-but-longer' });
    expect(otherPrefix.status).toBe(200);
  });

  it('in monitor mode decides and reports but never enforces', async () => {
    const { app, decisions } = setup({ monitor: true });
    const res = await request(app).post('/login').send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    expect(decisions.at(-1)).toMatchObject({ action: 'challenge', enforced: 'allow', monitor: true });
  });

  it('puts the decision on the request for the app', async () => {
    const { shield } = setup();
    const express = (await import('express')).default;
    const app = express();
    app.use(express.json());
    app.post('/l', shield.login({ authenticate: () => ({ userId: 'u9' }) }), (req, res) => {
      res.json((req as unknown as { shield: unknown }).shield);
    });
    const res = await request(app).post('/l').send({ email: 'carol@example.com', password: 'whatever-pass' });
    expect(res.body.userId).toBe('u9');
    expect(res.body.decision).toMatchObject({ action: 'allow', score: expect.any(Number), reasons: expect.any(Array) });
  });
});

describe('step-up verify', () => {
  async function challengeFor(app: Parameters<typeof request>[0], password = 'correct horse battery', cookie?: string) {
    const req = request(app).post('/login').set(from('198.51.100.20'));
    if (cookie) req.set('Cookie', cookie);
    const res = await req.send({ email: 'alice@example.com', password });
    expect(res.body.error).toBe('step_up_required');
    return res.body.challenge as string;
  }

  it('passes with the right code, issues a token and makes the device known', async () => {
    const { app } = setup();
    const challenge = await challengeFor(app);
    const res = await request(app).post('/login/verify').send({ challenge, code: '111111' });
    expect(res.status).toBe(200);
    expect(res.body.token).toBe('t-u1');
    const cookie = deviceCookie(res) as string;
    const again = await request(app).post('/login').set('Cookie', cookie).send({ email: 'alice@example.com', password: 'correct horse battery' });
    expect(again.status).toBe(200);
  });

  it('refuses a wrong code with 401 invalid_code', async () => {
    const { app } = setup();
    const challenge = await challengeFor(app);
    const res = await request(app).post('/login/verify').send({ challenge, code: '000000' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_code' });
  });

  it('is single-use: a replayed challenge fails', async () => {
    const { app } = setup();
    const challenge = await challengeFor(app);
    expect((await request(app).post('/login/verify').send({ challenge, code: '111111' })).status).toBe(200);
    const replay = await request(app).post('/login/verify').send({ challenge, code: '111111' });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_code');
  });

  it('lets only one of many concurrent presentations of the right code through', async () => {
    const { app } = setup();
    const challenge = await challengeFor(app);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => request(app).post('/login/verify').send({ challenge, code: '111111' })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('limits attempts per challenge, then answers 429', async () => {
    const { app } = setup({ challenge: { maxAttempts: 3 } });
    const challenge = await challengeFor(app);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(app).post('/login/verify').send({ challenge, code: `99999${i}` })).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    // The challenge is burnt: even the right code fails now.
    const late = await request(app).post('/login/verify').send({ challenge, code: '111111' });
    expect(late.status).not.toBe(200);
  });

  it('expires', async () => {
    let now = Date.now();
    const { app } = setup({ now: () => now, challenge: { ttlSec: 60 } });
    const challenge = await challengeFor(app);
    now += 61_000;
    const res = await request(app).post('/login/verify').send({ challenge, code: '111111' });
    expect(res.status).toBe(401);
  });

  it('is bound to the device that asked for it', async () => {
    const { app } = setup();
    const bobCookie = await enrolDevice(app, 'bob@example.com', 'hunter2-but-longer', '222222');
    const challenge = await challengeFor(app, 'correct horse battery', bobCookie);
    const elsewhere = await request(app).post('/login/verify').send({ challenge, code: '111111' });
    expect(elsewhere.status).toBe(401);
    const same = await request(app).post('/login/verify').set('Cookie', bobCookie).send({ challenge, code: '111111' });
    expect(same.status).toBe(200);
  });

  it('rejects malformed challenges and codes as bad requests or invalid codes, never 500', async () => {
    const { app } = setup();
    for (const body of [{}, { challenge: 1, code: '1' }, { challenge: 'x', code: ['1'] }, { challenge: 'a'.repeat(500), code: '1' }]) {
      const res = await request(app).post('/login/verify').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('bad_request');
    }
    const unknown = await request(app).post('/login/verify').send({ challenge: 'A'.repeat(43), code: '111111' });
    expect(unknown.status).toBe(401);
  });
});
