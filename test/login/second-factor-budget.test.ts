import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DECOY_USER_ID } from '../../src/challenges/challenges.js';
import { createShield, MemoryStore, RedisStore } from '../../src/index.js';
import { resolveConfig } from '../../src/config/config.js';
import type { SecondFactorGuessingEvent } from '../../src/engine/events.js';
import { loginApp } from '../support/login-app.js';
import { startRedis } from '../support/redis.js';
import { useCleanup } from '../support/cleanup.js';

/**
 * Issue 10, row 1 and 7: no one without the password can keep the owner from stepping up, and
 * no one with it can guess codes at a useful rate — in parallel too.
 */
const users = { 'alice@example.com': { id: 'user-alice-7f3a9c', password: 'Tr0ub4dor&3-horse', code: '424242' } };
const current = useCleanup();

function setup(options: Parameters<typeof loginApp>[0] = {}) {
  const t = loginApp({ posture: 'strict', secondFactor: { limit: 5, windowSec: 86_400 }, ...options }, users);
  current.shield = t.shield;
  const guessing: SecondFactorGuessingEvent[] = [];
  t.shield.on('second-factor.guessing', (e) => guessing.push(e));
  const challenge = async (password: string, ip: string) => {
    const res = await request(t.app).post('/login').set('X-Forwarded-For', ip).send({ email: 'alice@example.com', password });
    expect(res.body.error).toBe('step_up_required');
    return res.body.challenge as string;
  };
  const verify = (challengeToken: string, code: string, ip: string) =>
    request(t.app).post('/login/verify').set('X-Forwarded-For', ip).send({ challenge: challengeToken, code });
  return { ...t, guessing, challenge, verify };
}

describe('strangers without the password', () => {
  it('can hammer the account from many sources without stopping the owner stepping up', async () => {
    const { challenge, verify, guessing } = setup();
    for (let s = 0; s < 12; s++) {
      const ip = `203.0.${s}.7`;
      const doomed = await challenge(`guess-${s}`, ip);
      for (let j = 0; j < 4; j++) expect((await verify(doomed, `00000${j}`, ip)).body).toEqual({ error: 'invalid_code' });
    }
    expect(guessing).toEqual([]);
    // The owner, on a new device from their own network, with the password and the code.
    const own = await challenge(users['alice@example.com'].password, '192.0.2.10');
    const passed = await verify(own, '424242', '192.0.2.10');
    expect(passed.status).toBe(200);
  });
});

describe('someone with the password guessing codes', () => {
  it('is stopped after the budget, from any number of sources; the owner is told', async () => {
    const { challenge, verify, guessing } = setup();
    let n = 0;
    for (let s = 0; s < 3; s++) {
      const ip = `198.51.${s}.9`;
      const live = await challenge(users['alice@example.com'].password, ip);
      for (let j = 0; j < 2; j++) expect((await verify(live, `1${String(n++).padStart(5, '0')}`, ip)).body).toEqual({ error: 'invalid_code' });
    }
    // 6 wrong codes against a budget of 5: the right code is now refused too, with the same answer.
    const last = await challenge(users['alice@example.com'].password, '198.51.50.9');
    expect((await verify(last, '424242', '198.51.50.9')).body).toEqual({ error: 'invalid_code' });
    expect(guessing.map((e) => [e.wrongCodes, e.blocked])).toEqual([
      [3, false],
      [5, true],
    ]);
    expect(guessing[0]).toMatchObject({ userId: 'user-alice-7f3a9c', limit: 5, purpose: 'login' });
  });

  it('the default budget bounds a TOTP guess at ≤ 1 in 10^4 per account per day', () => {
    const { secondFactor } = resolveConfig({ secret: 'd'.repeat(40) });
    // 3 valid TOTP codes (one step of drift either side) among 10^6, one guess per wrong code.
    expect((secondFactor.limit * 3) / 1e6 / (secondFactor.windowSec / 86_400)).toBeLessThanOrEqual(1e-4);
  });
});

describe('the budget is reserved atomically', () => {
  const parallelGuesses = async (store?: MemoryStore | RedisStore) => {
    const { challenge, verify, guessing } = setup(store ? { store } : {});
    const tokens = await Promise.all([0, 1, 2, 3].map((s) => challenge(users['alice@example.com'].password, `198.18.${s}.1`)));
    // 20 wrong codes at once, five on each of four live challenges, against a budget of 5.
    const answers = await Promise.all(tokens.flatMap((t, s) => [0, 1, 2, 3, 4].map((j) => verify(t, `9${s}${j}000`, `198.18.${s}.1`))));
    expect(answers.every((a) => a.body.error === 'invalid_code')).toBe(true);
    // Each reservation saw its own count: the alert at 3 and the one at the limit, once each.
    expect(guessing.map((e) => [e.wrongCodes, e.blocked]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual([
      [3, false],
      [5, true],
    ]);
    const after = await challenge(users['alice@example.com'].password, '198.18.9.1');
    expect((await verify(after, '424242', '198.18.9.1')).body).toEqual({ error: 'invalid_code' });
  };

  it('in the embedded store', async () => {
    await parallelGuesses();
  });

  it('in Redis', async () => {
    current.redis = await startRedis();
    const store = new RedisStore({ url: current.redis!.url });
    try {
      await parallelGuesses(store);
    } finally {
      await current.shield?.close();
      current.shield = undefined;
      await store.close();
    }
  });
});

describe('every presentation does the same work', () => {
  it('a live, a doomed and an unknown-address challenge cost the same store operations', async () => {
    const calls: string[] = [];
    const memory = new MemoryStore();
    // Records which store operations each presentation makes, in order.
    const store = new Proxy(memory, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || prop === 'close') return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const t = loginApp({ store, posture: 'strict' }, users);
    current.shield = t.shield;
    const shapes: string[][] = [];
    for (const [i, [email, password]] of ([
      ['alice@example.com', users['alice@example.com'].password],
      ['alice@example.com', 'wrong-password-5'],
      ['nobody@example.com', 'wrong-password-5'],
    ] as const).entries()) {
      const ip = `192.0.2.${20 + i}`;
      const ch = await request(t.app).post('/login').set('X-Forwarded-For', ip).send({ email, password });
      await new Promise((r) => setTimeout(r, 10));
      calls.length = 0;
      const res = await request(t.app).post('/login/verify').set('X-Forwarded-For', ip).send({ challenge: ch.body.challenge, code: '000000' });
      expect(res.body).toEqual({ error: 'invalid_code' });
      shapes.push([...calls]);
    }
    expect(shapes[0]?.length).toBeGreaterThan(3);
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
    await memory.close();
  });

  it("calls the app's code check once per presentation, with a decoy user for challenges nobody can pass", async () => {
    const asked: string[] = [];
    const app = express();
    app.use(express.json());
    const shield = createShield({ secret: 's'.repeat(40), app, posture: 'strict' });
    current.shield = shield;
    const ok: express.RequestHandler = (_req, res) => {
      res.json({});
    };
    app.post(
      '/login',
      shield.login({
        authenticate: (email, password) => (email === 'alice@example.com' && password === 'right-pw-1' ? { userId: 'u-alice' } : null),
        lookupAccount: (email) => (email === 'alice@example.com' ? { userId: 'u-alice' } : undefined),
      }),
      ok,
    );
    app.post(
      '/verify',
      shield.stepUp({
        verifySecondFactor: (userId) => {
          asked.push(userId);
          return false;
        },
      }),
      ok,
    );
    for (const [email, password] of [
      ['alice@example.com', 'right-pw-1'],
      ['alice@example.com', 'wrong-pw-1'],
      ['nobody@example.com', 'wrong-pw-1'],
    ] as const) {
      const ch = await request(app).post('/login').send({ email, password });
      expect((await request(app).post('/verify').send({ challenge: ch.body.challenge, code: '123456' })).body).toEqual({ error: 'invalid_code' });
    }
    expect(asked).toEqual(['u-alice', 'u-alice', DECOY_USER_ID]);
  });
});
