import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { optionsFromEnv, parseTrustProxy } from '../../examples/exchange-server/options.js';
import { createRedisStoreFromUrl, ShieldConfigError, StoreConfigError } from '../../src/index.js';
import { SECRET, startExchange, TEST_SCRYPT_COST, testUsers } from './helpers.js';

let exchange: ExchangeApp | undefined;
afterEach(async () => {
  await exchange?.close();
  exchange = undefined;
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

  it('reads the contract environment; PROTECTION is not the example’s (the bench launcher reads it)', () => {
    expect(Object.keys(optionsFromEnv({})).sort()).toEqual(['adminToken', 'leakedAddresses', 'secret', 'trustProxy', 'users']);
    expect(optionsFromEnv({ PROTECTION: 'rlf-recipe', TRUST_PROXY: '2', LEAKED_ADDRESSES: '/tmp/x', ADMIN_TOKEN: 'admin-token-123' })).toEqual({
      secret: undefined,
      users: undefined,
      leakedAddresses: '/tmp/x',
      trustProxy: 2,
      adminToken: 'admin-token-123',
    });
    expect(optionsFromEnv({ SHIELD_POSTURE: 'adaptive' }).shieldOptions).toEqual({ posture: 'adaptive' });
    expect(() => optionsFromEnv({ SHIELD_POSTURE: 'lenient' })).toThrow(/SHIELD_POSTURE/);
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
