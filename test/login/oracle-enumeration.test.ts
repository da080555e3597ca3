import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { loginApp } from '../support/login-app.js';

const users = { 'alice@example.com': { id: 'u1', password: 'correct horse battery', code: '111111' } };

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

function setup() {
  const t = loginApp({ leakedAddresses: ['alice@example.com', 'ghost@example.com'] }, users);
  close = () => t.shield.close();
  return t;
}

/** Status, header names that matter, and body keys with token values masked. */
function shape(res: request.Response) {
  return {
    status: res.status,
    keys: Object.keys(res.body).sort(),
    error: res.body.error,
    wwwAuthenticate: res.headers['www-authenticate'],
    challengeLength: typeof res.body.challenge === 'string' ? res.body.challenge.length : undefined,
    expiresIn: res.body.expiresIn,
  };
}

describe('no credential-validity oracle', () => {
  it('answers a risky attempt identically whether the password is right or wrong', async () => {
    const { app } = setup();
    const right = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.1').send({ email: 'alice@example.com', password: 'correct horse battery' });
    const wrong = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.2').send({ email: 'alice@example.com', password: 'Summer2024!' });
    expect(right.body.error).toBe('step_up_required');
    expect(shape(wrong)).toEqual(shape(right));
    expect(Boolean(right.headers['set-cookie'])).toBe(Boolean(wrong.headers['set-cookie']));
  });

  it('never lets a challenge earned by a wrong password pass, even with the right code', async () => {
    const { app } = setup();
    const wrong = await request(app).post('/login').send({ email: 'alice@example.com', password: 'Summer2024!' });
    const res = await request(app).post('/login/verify').send({ challenge: wrong.body.challenge, code: '111111' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_code' });
  });

  it('scores later attempts the same after right or wrong challenged passwords', async () => {
    // Counters must not reveal validity either: the same history with right passwords in one
    // shield and wrong ones in another must leave the next attempt scored identically.
    const probe = async (password: string) => {
      const t = loginApp({ leakedAddresses: ['alice@example.com'] }, users);
      for (let i = 0; i < 3; i++) {
        const r = await request(t.app).post('/login').set('X-Forwarded-For', '198.51.100.31').send({ email: 'alice@example.com', password });
        expect(r.body.error).toBe('step_up_required');
      }
      const last = await request(t.app).post('/login').set('X-Forwarded-For', '198.51.100.31').send({ email: 'alice@example.com', password: 'x' });
      await t.shield.close();
      return { status: last.status, decision: t.decisions.at(-1) };
    };
    const afterRight = await probe('correct horse battery');
    const afterWrong = await probe('wrong-password');
    expect(afterRight.status).toBe(afterWrong.status);
    expect(afterRight.decision?.score).toBe(afterWrong.decision?.score);
    expect(afterRight.decision?.reasons).toEqual(afterWrong.decision?.reasons);
  });
});

describe('no user enumeration', () => {
  it('answers an unknown account like a known one on the plain path', async () => {
    const { app } = setup();
    const known = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.40').send({ email: 'alice2@example.com', password: 'bad' });
    const unknown = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.41').send({ email: 'nobody@example.com', password: 'bad' });
    expect(shape(unknown)).toEqual(shape(known));
  });

  it('answers an unknown leaked account like a known leaked one on the challenge path', async () => {
    const { app, decisions } = setup();
    const known = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.42').send({ email: 'alice@example.com', password: 'bad' });
    const unknown = await request(app).post('/login').set('X-Forwarded-For', '198.51.100.43').send({ email: 'ghost@example.com', password: 'bad' });
    expect(known.body.error).toBe('step_up_required');
    expect(shape(unknown)).toEqual(shape(known));
    const [dk, du] = decisions.slice(-2);
    expect(du?.score).toBe(dk?.score);
  });
});
