import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/index.js';
import { deviceCookie, loginApp } from '../support/login-app.js';
import { type RedisProcess, startRedis } from '../support/redis.js';
import { FlightCounter, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * Round trips of whole login decisions against a real Redis, counted by a proxy between the
 * shield and the server: a returning user's success is the one read, nothing after it.
 */
describe('store round trips per login decision (Redis)', () => {
  let redis: RedisProcess;
  let proxy: TcpProxy;
  const counter = new FlightCounter();
  let store: RedisStore;
  let t: ReturnType<typeof loginApp>;
  const users = { 'alice@example.com': { id: 'u-alice', password: 'Tr0ub4dor&3-horse', code: '424242' } };

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy(redis.port, counter, { delayMs: 5 });
    store = new RedisStore({ url: `redis://127.0.0.1:${proxy.port}` });
    t = loginApp({ store, posture: 'strict' }, users);
  });
  afterAll(async () => {
    await t?.shield.close();
    await store?.close();
    await proxy?.close();
    await redis?.stop();
  });

  const login = (password: string, cookie?: string) => {
    const r = request(t.app).post('/login').set('X-Forwarded-For', '192.0.2.60');
    if (cookie) r.set('Cookie', cookie);
    return r.send({ email: 'alice@example.com', password });
  };

  it('a returning user on a known device: one round trip; a wrong password: two', async () => {
    const first = await login(users['alice@example.com'].password);
    const passed = await request(t.app).post('/login/verify').set('X-Forwarded-For', '192.0.2.60').send({ challenge: first.body.challenge, code: '424242' });
    const cookie = deviceCookie(passed) as string;
    await login(users['alice@example.com'].password, cookie); // warm: slot map, scripts, device refresh
    await new Promise((r) => setTimeout(r, 50));

    counter.reset();
    const ok = await login(users['alice@example.com'].password, cookie);
    expect(ok.status).toBe(200);
    expect(counter.flights).toBe(1);

    counter.reset();
    const wrong = await login('not-the-password', cookie);
    expect(wrong.body).toEqual({ error: 'invalid_credentials' });
    expect(counter.flights).toBe(2);
  });

  it('a new device answered with a step-up: two round trips (the read; the challenge stored with the attempt recorded)', async () => {
    // Warm: the bucket's first evidence also teaches the wave baseline (one more write, once a bucket).
    await request(t.app).post('/login').set('X-Forwarded-For', '192.0.2.61').send({ email: 'alice@example.com', password: 'warm-up' });
    await new Promise((r) => setTimeout(r, 50));
    counter.reset();
    const fresh = await request(t.app).post('/login').set('X-Forwarded-For', '192.0.2.62').send({ email: 'alice@example.com', password: users['alice@example.com'].password });
    expect(fresh.body.error).toBe('step_up_required');
    await new Promise((r) => setTimeout(r, 50));
    expect(counter.flights).toBe(2);
    // And the stored challenge works: the owner passes it.
    const passed = await request(t.app).post('/login/verify').set('X-Forwarded-For', '192.0.2.62').send({ challenge: fresh.body.challenge, code: '424242' });
    expect(passed.status).toBe(200);
  });
});
