import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { loginApp } from '../support/login-app.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

const badBodies: [string, string][] = [
  ['number email', JSON.stringify({ email: 5, password: 'x' })],
  ['array email', JSON.stringify({ email: ['a@b.c'], password: 'x' })],
  ['object password', JSON.stringify({ email: 'a@b.c', password: { $gt: '' } })],
  ['null password', JSON.stringify({ email: 'a@b.c', password: null })],
  ['missing password', JSON.stringify({ email: 'a@b.c' })],
  ['empty object', '{}'],
  ['array body', '[1,2]'],
  ['string body', '"hello"'],
  ['__proto__ fields', '{"__proto__": {"email": "a@b.c", "password": "x"}}'],
  ['constructor fields', '{"constructor": {"prototype": {"email": "a@b.c"}}}'],
  ['lone surrogate', '{"email": "\\ud800@b.c", "password": "x"}'],
  ['huge email', JSON.stringify({ email: `${'a'.repeat(5000)}@b.c`, password: 'x' })],
  ['malformed json', '{"email": "a@b.c", "password": '],
];

describe('login bad input', () => {
  for (const [name, body] of badBodies) {
    it(`answers ${name} with a JSON 400`, async () => {
      const t = loginApp();
      close = () => t.shield.close();
      const res = await request(t.app).post('/login').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('bad_request');
    });
  }

  it('answers a 1 MB body with a JSON 413', async () => {
    const t = loginApp();
    close = () => t.shield.close();
    const res = await request(t.app)
      .post('/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('accepts odd but valid unicode without a 500', async () => {
    const t = loginApp();
    close = () => t.shield.close();
    for (const email of ['ｆｕｌｌ@ｗｉｄｔｈ.com', 'a\u200b@b.c', '\u202eevil@b.c', 'пользователь@пример.рф', 'a@b']) {
      const res = await request(t.app).post('/login').send({ email, password: 'p\u0000w' });
      expect(res.status).toBe(401);
    }
  });

  it('uses the socket address, not a spoofed X-Forwarded-For, when trust proxy is off', async () => {
    const warnings: string[] = [];
    const t = loginApp({ velocity: { ip: { limit: 4 } }, logger: { warn: (m) => warnings.push(m), error: () => {} } });
    close = () => t.shield.close();
    t.app.set('trust proxy', false);
    let last = 0;
    for (let i = 0; i < 6; i++) {
      last = (await request(t.app).post('/login').set('X-Forwarded-For', `10.9.8.${i}`).send({ email: `z${i}@b.c`, password: 'x' })).status;
    }
    expect(last).toBe(429);
    expect(warnings.join()).toContain('UNEXPECTED_X_FORWARDED_FOR');
  });
});
