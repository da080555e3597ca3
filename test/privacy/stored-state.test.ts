import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, type Decision } from '../../src/index.js';
import { accountApp } from '../support/account-app.js';
import { deviceCookie } from '../support/login-app.js';
import { type RedisProcess, startRedis } from '../support/redis.js';

/**
 * The product must not become the next leak: after real traffic, nothing in the store, the
 * decisions or the log lines contains an address, an IP, a password, a device id or a token.
 */
describe('privacy of our own state', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.stop());

  it('stores, logs and emits only keyed identifiers', async () => {
    const store = new RedisStore({ url: redis.url });
    const logs: string[] = [];
    const t = accountApp({
      store,
      leakedAddresses: ['alice@example.com'],
      logger: { warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    });
    const decisions: Decision[] = [];
    t.shield.on('decision', (d) => decisions.push(d));
    const secrets = new Set<string>(['alice@example.com', 'bob@example.com', 'mallory@evil.example', 'Tr0ub4dor&3-horse', 'bobs-old-pass-9x', 'violet-kettle-orbit-73', '203.0.113.77', '2001:db8:1:2::99', '198.51.100.4']);

    // Stuffing from two IPs, one IPv6; a real login with step-up; a password change.
    for (const [ip, email, password] of [
      ['203.0.113.77', 'mallory@evil.example', 'hunter2'],
      ['2001:db8:1:2::99', 'alice@example.com', 'Summer2024!'],
      ['203.0.113.77', 'bob@example.com', 'bobs-old-pass-9x'],
    ] as const) {
      await request(t.app).post('/login').set('X-Forwarded-For', ip).send({ email, password });
    }
    const ch = await request(t.app).post('/login').set('X-Forwarded-For', '198.51.100.4').send({ email: 'alice@example.com', password: 'Tr0ub4dor&3-horse' });
    const ok = await request(t.app).post('/login/verify').set('X-Forwarded-For', '198.51.100.4').send({ challenge: ch.body.challenge, code: '111111' });
    expect(ok.status).toBe(200);
    const cookie = deviceCookie(ok) as string;
    secrets.add(ch.body.challenge);
    secrets.add(ok.body.token);
    secrets.add(cookie.split('=')[1]?.split('.')[0] as string);
    const changed = await request(t.app)
      .post('/account/password')
      .set('Authorization', `Bearer ${ok.body.token}`)
      .set('Cookie', cookie)
      .set('X-Forwarded-For', '198.51.100.4')
      .send({ currentPassword: 'Tr0ub4dor&3-horse', newPassword: 'violet-kettle-orbit-73' });
    expect(changed.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50)); // background writes (device index, password flags)

    const client = new Redis(redis.url);
    const keys = await client.keys('*');
    expect(keys.length).toBeGreaterThan(10);
    const dump: string[] = [];
    for (const key of keys) {
      dump.push(key);
      const type = await client.type(key);
      if (type === 'string') dump.push((await client.get(key)) ?? '');
    }
    await client.quit();
    const haystacks = { store: dump.join('\n'), decisions: JSON.stringify(decisions), logs: logs.join('\n') };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) expect(text.includes(secret), `${where} contains ${secret}`).toBe(false);
      // No IP in any form (e.g. a /24 written out).
      expect(text, where).not.toMatch(/203\.0\.113\.|2001:db8/);
    }
    await t.shield.close();
    await store.close();
  });
});
