import { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { parseClientAddress, siteOf } from '../../src/identity/client-context.js';
import { RedisStore } from '../../src/index.js';
import { accountApp } from '../support/account-app.js';
import { deviceCookie, loginApp } from '../support/login-app.js';
import { startRedis } from '../support/redis.js';
import { useCleanup } from '../support/cleanup.js';

/** Issue 10, rows 3, 9 and 11: state oracles, client addresses, user ids at rest. */
const current = useCleanup();

const shapeOf = (res: request.Response) => ({ status: res.status, body: res.body, cookie: deviceCookie(res) !== undefined });

describe('no state oracle: account state never changes the answer to a stranger', () => {
  for (const posture of ['strict', 'adaptive'] as const) {
    it(`${posture}: an account with a learnt weak password, or a fresh credential change, answers a wrong password like an unknown address`, async () => {
      const t = accountApp({ posture });
      current.shield = t.shield;
      const bob = { email: 'bob@example.com', password: 'bobs-old-pass-9x' };
      // bob signs in on his own device (stepping up if asked), which is where his weak password is learnt.
      let first = await request(t.app).post('/login').set('X-Forwarded-For', '192.0.2.5').send(bob);
      if (first.body.error === 'step_up_required') first = await request(t.app).post('/login/verify').set('X-Forwarded-For', '192.0.2.5').send({ challenge: first.body.challenge, code: '222222' });
      const cookie = deviceCookie(first) as string;
      const again = await request(t.app).post('/login').set('X-Forwarded-For', '192.0.2.5').set('Cookie', cookie).send(bob);
      expect(again.status).toBe(200);
      await new Promise((r) => setTimeout(r, 30)); // password quality is learnt after the response
      // and changes his email (a credential change: a recent-change mark on the account).
      const changed = await request(t.app).post('/account/email').set('Authorization', `Bearer ${again.body.token}`).set('Cookie', cookie).send({ email: 'bob@example.com' });
      expect(changed.status).toBe(200);

      const probe = (email: string, ip: string) => request(t.app).post('/login').set('X-Forwarded-For', ip).send({ email, password: 'not-the-password-4' });
      const flagged = await probe('bob@example.com', '203.0.113.30');
      const unknown = await probe('nobody@example.com', '203.0.113.31');
      expect(shapeOf(flagged).status).toBe(shapeOf(unknown).status);
      expect(Object.keys(flagged.body).sort()).toEqual(Object.keys(unknown.body).sort());
      expect(flagged.body.error).toBe(unknown.body.error);
      expect(flagged.body.error).toBe(posture === 'strict' ? 'step_up_required' : 'invalid_credentials');
    });
  }
});

describe('client addresses', () => {
  it('strips ports and brackets, and refuses nothing it cannot parse', () => {
    expect(parseClientAddress('203.0.113.5:4431')?.toString()).toBe('203.0.113.5');
    expect(parseClientAddress('[2001:db8::1]:443')?.toNormalizedString()).toBe(ipaddr.parse('2001:db8::1').toNormalizedString());
    expect(parseClientAddress('[2001:db8::1]')?.kind()).toBe('ipv6');
    expect(parseClientAddress('fe80::1%eth0')?.kind()).toBe('ipv6');
    expect(parseClientAddress('::ffff:198.51.100.7')?.toString()).toBe('198.51.100.7');
    expect(parseClientAddress('not-an-ip')).toBeUndefined();
    expect(siteOf(ipaddr.parse('2001:db8:abcd:12::1') as ipaddr.IPv6)).toBe('2001:db8:abcd::/48');
  });

  const hammer = async (addresses: (i: number) => string, attempts = 30) => {
    const t = loginApp({ posture: 'strict' });
    current.shield = t.shield;
    const statuses: number[] = [];
    for (let i = 0; i < attempts; i++) {
      const res = await request(t.app).post('/login').set('X-Forwarded-For', addresses(i)).send({ email: `victim${i}@example.com`, password: 'guess' });
      statuses.push(res.status);
    }
    return statuses;
  };

  it('a rotating port is one source, and is blocked', async () => {
    expect(await hammer((i) => `203.0.113.9:${1000 + i}`)).toContain(429);
  });

  it('unparseable addresses are one source together, and are blocked', async () => {
    expect(await hammer((i) => `garbage-${i}`)).toContain(429);
  });

  it('IPv6 attempts spread over many /64s of one /48 are blocked at the /48', async () => {
    const statuses = await hammer((i) => `2001:db8:77:${(i + 1).toString(16)}::1`, 140);
    expect(statuses.slice(0, 20)).not.toContain(429);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('user ids at rest', () => {
  it('challenge records in the store hold no app user id (sealed), yet the challenge still passes', async () => {
    current.redis = await startRedis();
    const store = new RedisStore({ url: current.redis!.url });
    const userId = 'user-id-that-must-not-leak-42';
    const t = loginApp({ store, posture: 'strict' }, { 'alice@example.com': { id: userId, password: 'Tr0ub4dor&3-horse', code: '424242' } });
    current.shield = t.shield;
    const right = await request(t.app).post('/login').set('X-Forwarded-For', '192.0.2.9').send({ email: 'alice@example.com', password: 'Tr0ub4dor&3-horse' });
    expect(right.body.error).toBe('step_up_required');
    const client = new Redis(current.redis!.url);
    const keys = await client.keys('*');
    const values = await Promise.all(keys.map(async (k) => ((await client.type(k)) === 'string' ? ((await client.get(k)) ?? '') : '')));
    await client.quit();
    expect(keys.some((k) => k.includes('chal:'))).toBe(true);
    expect([...keys, ...values].join('\n')).not.toContain(userId);
    const passed = await request(t.app).post('/login/verify').set('X-Forwarded-For', '192.0.2.9').send({ challenge: right.body.challenge, code: '424242' });
    expect(passed.body.token).toBe(`t-${userId}`);
    await t.shield.close();
    current.shield = undefined;
    await store.close();
  });
});
