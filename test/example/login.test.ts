import { describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import type { Decision } from '../../src/index.js';
import {
  answerShape,
  code,
  deviceCookie,
  get,
  LEAKED_UNKNOWN,
  loginAndEnrol,
  post,
  useExchange,
  wrongCode,
} from './helpers.js';

const start = useExchange();

const login = (app: ExchangeApp['app'], user: { email: string; password: string }, client = {}) =>
  post(app, '/auth/login', { email: user.email, password: user.password }, client);

describe('login: allow and known devices', () => {
  it('steps up a non-leaked account on a new device too (default posture), then knows the device', async () => {
    const { cast, app, exchange } = await start();
    const stepped = await login(app, cast.carol, { ip: '203.0.113.10' });
    expect(stepped.status).toBe(401);
    expect(stepped.body.error).toBe('step_up_required');
    const enrolled = await loginAndEnrol(app, cast.carol, { ip: '203.0.113.10' });
    expect(enrolled.challenged).toBe(true);
    const decisions: Decision[] = [];
    exchange.shield!.on('decision', (d) => decisions.push(d));
    const again = await login(app, cast.carol, { ip: '203.0.113.10', cookie: enrolled.cookie });
    expect(again.status).toBe(200);
    expect(decisions.at(-1)?.reasons.map((r) => r.signal)).toContain('device.known');
  });

  it('adaptive posture: lets a non-leaked account in from a new device and remembers the device', async () => {
    const { cast, app, exchange } = await start({ shieldOptions: { posture: 'adaptive' } });
    const first = await login(app, cast.carol, { ip: '203.0.113.10' });
    expect(first.status).toBe(200);
    expect(first.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = deviceCookie(first);
    expect(cookie).toBeDefined();

    const security = await get(app, '/account/security', { token: first.body.token });
    expect(security.status).toBe(200);

    const decisions: Decision[] = [];
    exchange.shield!.on('decision', (d) => decisions.push(d));
    const again = await login(app, cast.carol, { ip: '203.0.113.10', cookie });
    expect(again.status).toBe(200);
    expect(decisions.at(-1)?.reasons.map((r) => r.signal)).toContain('device.known');
  });

  it('a leaked account on its known device logs in without a challenge', async () => {
    const { cast, app } = await start();
    const enrolled = await loginAndEnrol(app, cast.leakedAlice, { ip: '198.51.100.7' });
    expect(enrolled.challenged).toBe(true);
    const res = await login(app, cast.leakedAlice, { ip: '198.51.100.7', cookie: enrolled.cookie });
    expect(res.status).toBe(200);
    expect(typeof res.body.token).toBe('string');
  });
});

describe('login: step-up for leaked addresses on new devices', () => {
  it('answers 401 step_up_required with a challenge and WWW-Authenticate', async () => {
    const { cast, app } = await start();
    const res = await login(app, cast.leakedAlice, { ip: '198.51.100.8' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('step_up_required');
    expect(res.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer .*insufficient_user_authentication/);
    expect(deviceCookie(res)).toBeUndefined();
  });

  it('verify with the right TOTP code → 200 token and a device cookie that is then known', async () => {
    const { cast, app } = await start();
    const client = { ip: '198.51.100.9' };
    const challenged = await login(app, cast.leakedAlice, client);
    const verified = await post(app, '/auth/login/verify', { challenge: challenged.body.challenge, code: await code(cast.leakedAlice) }, client);
    expect(verified.status).toBe(200);
    expect(verified.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = deviceCookie(verified);
    expect(cookie).toMatch(/^as_dev=/);
    expect((await get(app, '/account/security', { token: verified.body.token })).status).toBe(200);
    expect((await login(app, cast.leakedAlice, { ...client, cookie })).status).toBe(200);
  });

  it('a wrong code → 401 invalid_code; the right one still works afterwards', async () => {
    const { cast, app } = await start();
    const client = { ip: '198.51.100.10' };
    const challenged = await login(app, cast.leakedAlice, client);
    const wrong = await post(app, '/auth/login/verify', { challenge: challenged.body.challenge, code: await wrongCode(cast.leakedAlice) }, client);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_code' });
    const right = await post(app, '/auth/login/verify', { challenge: challenged.body.challenge, code: await code(cast.leakedAlice) }, client);
    expect(right.status).toBe(200);
  });

  it('a challenge is single-use: replaying it after success → 401', async () => {
    const { cast, app } = await start();
    const client = { ip: '198.51.100.11' };
    const challenged = await login(app, cast.leakedAlice, client);
    const body = { challenge: challenged.body.challenge, code: await code(cast.leakedAlice) };
    expect((await post(app, '/auth/login/verify', body, client)).status).toBe(200);
    const replay = await post(app, '/auth/login/verify', body, client);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_code');
    expect(replay.body.token).toBeUndefined();
  });

  it('a challenge is bound to the device it was issued to', async () => {
    const { cast, app } = await start();
    const other = await loginAndEnrol(app, cast.carol, { ip: '198.51.100.12' });
    const challenged = await login(app, cast.leakedAlice, { ip: '198.51.100.12' });
    // Same challenge presented with some other device's cookie.
    const res = await post(
      app,
      '/auth/login/verify',
      { challenge: challenged.body.challenge, code: await code(cast.leakedAlice) },
      { ip: '198.51.100.12', cookie: other.cookie },
    );
    expect(res.status).toBe(401);
  });

  it('too many wrong codes kill the challenge, even for the right code', async () => {
    const { cast, app } = await start({ shieldOptions: { challenge: { maxAttempts: 3 } } });
    const client = { ip: '198.51.100.13' };
    const challenged = await login(app, cast.leakedAlice, client);
    const bad = { challenge: challenged.body.challenge, code: await wrongCode(cast.leakedAlice) };
    for (let i = 0; i < 3; i++) {
      const res = await post(app, '/auth/login/verify', bad, client);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_code');
    }
    // The core burns the challenge on its last allowed failure, so a later presentation finds
    // no challenge (401 invalid_code); 429 too_many_attempts is only seen by presentations
    // racing that last one. Either way no token, and the answer is a contract-shaped refusal.
    const late = await post(app, '/auth/login/verify', { ...bad, code: await code(cast.leakedAlice) }, client);
    expect([401, 429]).toContain(late.status);
    expect(['invalid_code', 'too_many_attempts']).toContain(late.body.error);
    expect(late.body.token).toBeUndefined();
    expect(deviceCookie(late)).toBeUndefined();
  });

  it('an expired challenge → 401 even with the right code', async () => {
    let now = Date.now();
    const { cast, app } = await start({ shieldOptions: { challenge: { ttlSec: 2 }, now: () => now } });
    const client = { ip: '198.51.100.14' };
    const challenged = await login(app, cast.leakedAlice, client);
    expect(challenged.body.expiresIn).toBe(2);
    now += 2_500;
    const res = await post(app, '/auth/login/verify', { challenge: challenged.body.challenge, code: await code(cast.leakedAlice) }, client);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_code');
  });
});

describe('login: velocity', () => {
  it('repeated failures from one IP end in 429 with Retry-After, without locking the victim out elsewhere', async () => {
    const { cast, app } = await start();
    const victim = await loginAndEnrol(app, cast.carol, { ip: '192.0.2.50' });
    const attacker = { ip: '203.0.113.66' };
    const statuses: number[] = [];
    let blocked: Awaited<ReturnType<typeof login>> | undefined;
    for (let i = 0; i < 12 && !blocked; i++) {
      const res = await login(app, { email: cast.carol.email, password: `guess-${i}` }, attacker);
      statuses.push(res.status);
      if (res.status === 429) blocked = res;
    }
    expect(blocked, `statuses: ${statuses.join(',')}`).toBeDefined();
    expect(blocked!.body).toEqual({ error: 'too_many_attempts' });
    expect(Number(blocked!.headers['retry-after'])).toBeGreaterThan(0);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);

    // Blocked: even the right password from that source.
    expect((await login(app, cast.carol, attacker)).status).toBe(429);
    // The real user on their own device is not the one being blocked.
    const own = await login(app, cast.carol, { ip: '192.0.2.50', cookie: victim.cookie });
    expect(own.status).toBe(200);
  });

  it('one IP trying many accounts gets 429', async () => {
    const { app } = await start();
    const ip = { ip: '203.0.113.77' };
    let status = 0;
    for (let i = 0; i < 25 && status !== 429; i++) {
      status = (await login(app, { email: `victim${i}@example.test`, password: 'hunter2' }, ip)).status;
    }
    expect(status).toBe(429);
  });
});

describe('no credential-validity oracle', () => {
  it('a risky attempt gets the same answer with the right and the wrong password', async () => {
    const { cast, app } = await start();
    const right = await login(app, cast.leakedAlice, { ip: '203.0.113.1' });
    const wrong = await login(app, { email: cast.leakedAlice.email, password: 'Password123!' }, { ip: '203.0.113.2' });
    expect(right.status).toBe(401);
    expect(wrong.status).toBe(right.status);
    expect(Object.keys(wrong.body).sort()).toEqual(Object.keys(right.body).sort());
    expect(wrong.body.error).toBe('step_up_required');
    expect(wrong.body.expiresIn).toBe(right.body.expiresIn);
    expect(wrong.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(wrong.headers['www-authenticate']).toBe(right.headers['www-authenticate']);
    expect(deviceCookie(wrong)).toBeUndefined();
    expect(deviceCookie(right)).toBeUndefined();
  });

  it("a wrong password's challenge never opens a session: the correct TOTP only tells the owner the password was wrong", async () => {
    const { cast, app } = await start();
    const client = { ip: '203.0.113.3' };
    const wrong = await login(app, { email: cast.leakedBob.email, password: 'not-his-password' }, client);
    expect(wrong.body.error).toBe('step_up_required');
    const res = await post(app, '/auth/login/verify', { challenge: wrong.body.challenge, code: await code(cast.leakedBob) }, client);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_credentials' });
    expect(res.body.token).toBeUndefined();
    // Single use: the same challenge and code again are refused as an unknown challenge.
    const again = await post(app, '/auth/login/verify', { challenge: wrong.body.challenge, code: await code(cast.leakedBob) }, client);
    expect(again.body).toEqual({ error: 'invalid_code' });
  });
});

describe('no account enumeration', () => {
  const shape = answerShape;

  it('allow path (adaptive posture): unknown and known account with a wrong password answer identically', async () => {
    const { cast, app } = await start({ shieldOptions: { posture: 'adaptive' } });
    const known = await login(app, { email: cast.carol.email, password: 'wrong-password-1' }, { ip: '203.0.113.20' });
    const unknown = await login(app, { email: 'nobody@example.test', password: 'wrong-password-1' }, { ip: '203.0.113.21' });
    expect(known.status).toBe(401);
    expect(unknown.body).toEqual(known.body);
    expect(shape(unknown)).toEqual(shape(known));
  });

  it('challenge path: unknown and known leaked account with a wrong password answer identically', async () => {
    const { cast, app } = await start();
    const known = await login(app, { email: cast.leakedBob.email, password: 'wrong-password-2' }, { ip: '203.0.113.22' });
    const unknown = await login(app, { email: LEAKED_UNKNOWN, password: 'wrong-password-2' }, { ip: '203.0.113.23' });
    expect(known.body.error).toBe('step_up_required');
    expect(shape(unknown)).toEqual(shape(known));
    const verifyKnown = await post(app, '/auth/login/verify', { challenge: known.body.challenge, code: '123456' }, { ip: '203.0.113.22' });
    const verifyUnknown = await post(app, '/auth/login/verify', { challenge: unknown.body.challenge, code: '123456' }, { ip: '203.0.113.23' });
    expect(verifyUnknown.status).toBe(verifyKnown.status);
    expect(verifyUnknown.body).toEqual(verifyKnown.body);
  });
});
