import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { ERL_LIMIT, RLF_MAX_CONSECUTIVE_FAILS } from '../../examples/exchange-server/baselines.js';
import { optionsFromEnv, type Protection, parseTrustProxy } from '../../examples/exchange-server/options.js';
import { createRedisStoreFromUrl, ShieldConfigError, StoreConfigError } from '../../src/index.js';
import { LEAKED_UNKNOWN, post, SECRET, startExchange, TEST_SCRYPT_COST, testUsers } from './helpers.js';

let exchange: ExchangeApp | undefined;
afterEach(async () => {
  await exchange?.close();
  exchange = undefined;
});

async function start(protection: Protection) {
  const cast = testUsers();
  exchange = await startExchange(cast, { protection });
  return { cast, app: exchange.app };
}

const wrong = (email: string, i: number) => ({ email, password: `wrong-guess-${i}` });

describe('PROTECTION=none', () => {
  it('only ever answers 200 or 401, however hard it is hit', async () => {
    const { cast, app } = await start('none');
    expect(exchange!.shield).toBeUndefined();
    const ip = { ip: '203.0.113.90' };
    for (let i = 0; i < 30; i++) {
      const res = await post(app, '/auth/login', wrong(cast.leakedAlice.email, i), ip);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_credentials' });
    }
    // A leaked address from a new device, right after 30 failures: straight in, no 2FA.
    const res = await post(app, '/auth/login', { email: cast.leakedAlice.email, password: cast.leakedAlice.password }, ip);
    expect(res.status).toBe(200);
    expect(typeof res.body.token).toBe('string');
    const verify = await post(app, '/auth/login/verify', { challenge: 'A'.repeat(43), code: '123456' }, ip);
    expect(verify.status).toBe(401);
    expect(verify.body).toEqual({ error: 'invalid_code' });
  });
});

describe('PROTECTION=express-rate-limit', () => {
  it(`allows ${ERL_LIMIT} attempts per IP per window, then 429 with Retry-After`, async () => {
    const { cast, app } = await start('express-rate-limit');
    const ip = { ip: '203.0.113.91' };
    for (let i = 0; i < ERL_LIMIT; i++) {
      expect((await post(app, '/auth/login', wrong(cast.carol.email, i), ip)).status).toBe(401);
    }
    const limited = await post(app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, ip);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'too_many_attempts' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Per IP: the next address is a fresh budget, which is exactly what distributed stuffing exploits.
    const elsewhere = await post(app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, { ip: '203.0.113.92' });
    expect(elsewhere.status).toBe(200);
  });
});

describe('PROTECTION=rlf-recipe', () => {
  it(`429 after ${RLF_MAX_CONSECUTIVE_FAILS} consecutive failures for one user+IP, not before`, async () => {
    const { cast, app } = await start('rlf-recipe');
    const ip = { ip: '203.0.113.93' };
    for (let i = 0; i < RLF_MAX_CONSECUTIVE_FAILS; i++) {
      const res = await post(app, '/auth/login', wrong(cast.carol.email, i), ip);
      expect(res.status, `failure ${i + 1}`).toBe(401);
    }
    const next = await post(app, '/auth/login', wrong(cast.carol.email, 99), ip);
    expect(next.status).toBe(429);
    expect(next.body).toEqual({ error: 'too_many_attempts' });
    expect(Number(next.headers['retry-after'])).toBeGreaterThan(0);
    // Blocked for the hour, right password or not, from that IP...
    expect((await post(app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, ip)).status).toBe(429);
    // ...but not from another IP, and not for other users from this one.
    expect((await post(app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, { ip: '203.0.113.94' })).status).toBe(200);
    expect((await post(app, '/auth/login', { email: cast.frank.email, password: cast.frank.password }, ip)).status).toBe(200);
  });

  it('a success resets the consecutive-failure count', async () => {
    const { cast, app } = await start('rlf-recipe');
    const ip = { ip: '203.0.113.95' };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < RLF_MAX_CONSECUTIVE_FAILS - 1; i++) {
        expect((await post(app, '/auth/login', wrong(cast.carol.email, i), ip)).status).toBe(401);
      }
      expect((await post(app, '/auth/login', { email: cast.carol.email, password: cast.carol.password }, ip)).status).toBe(200);
    }
  });

  it('as documented, unknown users are only limited per IP (100 failures a day)', async () => {
    const { app } = await start('rlf-recipe');
    const ip = { ip: '203.0.113.96' };
    for (let i = 0; i < RLF_MAX_CONSECUTIVE_FAILS + 5; i++) {
      expect((await post(app, '/auth/login', wrong(LEAKED_UNKNOWN, i), ip)).status).toBe(401);
    }
  });
});

describe('start-up configuration', () => {
  it('parses TRUST_PROXY like Express expects it', () => {
    expect(parseTrustProxy(undefined)).toBeUndefined();
    expect(parseTrustProxy('')).toBeUndefined();
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('loopback')).toBe('loopback');
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1')).toBe('10.0.0.0/8, 127.0.0.1');
  });

  it('reads the contract environment', () => {
    expect(optionsFromEnv({})).toMatchObject({ protection: 'shield', secret: undefined, trustProxy: undefined });
    expect(optionsFromEnv({ PROTECTION: 'rlf-recipe', TRUST_PROXY: '2', LEAKED_ADDRESSES: '/tmp/x' })).toMatchObject({
      protection: 'rlf-recipe',
      trustProxy: 2,
      leakedAddresses: '/tmp/x',
    });
    expect(() => optionsFromEnv({ PROTECTION: 'fort-knox' })).toThrow(/PROTECTION/);
  });

  it('TRUST_PROXY=true is refused at start-up with the shield’s TRUST_PROXY_TRUE error', async () => {
    const attempt = startExchange(testUsers(), { trustProxy: parseTrustProxy('true') });
    await expect(attempt).rejects.toBeInstanceOf(ShieldConfigError);
    await expect(attempt).rejects.toMatchObject({ code: 'TRUST_PROXY_TRUE' });
  });

  it('main.ts exits 2 with the named error for TRUST_PROXY=true and for a REDIS_URL it cannot use', async () => {
    // Only URLs that fail to parse: nothing here may start or reach a Redis server.
    const run = (env: Record<string, string>) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'examples/exchange-server/main.ts'],
          { env: { PATH: process.env.PATH ?? '', SHIELD_SECRET: SECRET, PORT: '0', ...env }, encoding: 'utf8', timeout: 20_000 },
          (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
        );
      });
    const storeError = (url: string): StoreConfigError => {
      try {
        void createRedisStoreFromUrl(url).close();
      } catch (error) {
        if (error instanceof StoreConfigError) return error;
        throw error;
      }
      throw new Error(`${url} was accepted`);
    };
    const badUrls = ['redis://bad host', 'redis://user:s3cret-pw@bad host:6380/0', 'http://cache.example.test:6380', 'redis://cache.example.test:6380,'];
    const [trustAll, ...redis] = await Promise.all([
      run({ TRUST_PROXY: 'true', EXAMPLE_USERS: JSON.stringify([]) }),
      ...badUrls.map((url) => run({ REDIS_URL: url })),
    ]);
    expect(trustAll!.status).toBe(2);
    expect(trustAll!.stderr).toContain('TRUST_PROXY_TRUE');
    badUrls.forEach((url, i) => {
      const result = redis[i]!;
      const expected = storeError(url);
      expect(result.status, `${url}: ${result.stderr}`).toBe(2);
      expect(result.stderr, url).toContain(expected.message);
      expect(result.stderr, url).toMatch(/\[account-shield REDIS_URL_\w+\] .*Fix: /);
      expect(result.stdout, url).not.toContain('listening');
    });
    expect(storeError(badUrls[0]!).code).toBe('REDIS_URL_INVALID');
    expect(storeError(badUrls[2]!).code).toBe('REDIS_URL_SCHEME');
    // The password in a URL never reaches the terminal.
    expect(redis[1]!.stderr).not.toContain('s3cret-pw');
  });

  it('EXAMPLE_USERS may be inline JSON; a bad entry is a clear start-up error', async () => {
    const users = JSON.stringify([{ email: 'zed@example.test', password: 'pw-zed-123', totpSecret: 'U75W2RZ6LKUOPKY6XQ4BYEQE3HLCT6G6' }]);
    exchange = await startExchange(testUsers(), { users, scryptCost: TEST_SCRYPT_COST });
    expect(exchange.users.size).toBe(1);
    expect(exchange.users.findByEmail('ZED@example.test')).toBeDefined();
    await expect(startExchange(testUsers(), { users: '[{"email":"x"}]' })).rejects.toThrow(/EXAMPLE_USERS\[0\]\.email/);
  });
});
