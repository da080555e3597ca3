import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ERL_LIMIT, RLF_MAX_CONSECUTIVE_FAILS } from '../../bench/exchange/baselines.js';
import { guardsFor, parseProtection, PROTECTIONS, type Protection } from '../../bench/exchange/protection.js';
import { startServer } from '../../bench/lib/processes.js';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { ExchangeConfigError } from '../../examples/exchange-server/options.js';
import { expectPasswordChecks, get, LEAKED_UNKNOWN, loginAndEnrol, post, SECRET, startExchange, testUsers } from '../example/helpers.js';

/**
 * The benchmark's baselines (bench/exchange/baselines.ts) as guards of the example exchange, and
 * the launcher behind `npm run example` that picks them with PROTECTION.
 */

let exchange: ExchangeApp | undefined;
afterEach(async () => {
  await exchange?.close();
  exchange = undefined;
});

async function start(protection: Protection) {
  const cast = testUsers();
  exchange = await startExchange(cast, { guards: guardsFor(protection) });
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


describe('the account routes of a baseline', () => {
  it('check the current password (403) and the new one (400 weak_password); a change ends the other sessions', async () => {
    const { cast, app } = await start('none');
    const user = cast.carol;
    const me = await loginAndEnrol(app, user, { ip: '192.0.2.30' });
    const second = await loginAndEnrol(app, user, { ip: '192.0.2.31' });
    await expectPasswordChecks(app, user, me);
    // Refused changes end nothing.
    expect((await get(app, '/account/security', second)).status).toBe(200);

    const ok = await post(app, '/account/password', { currentPassword: user.password, newPassword: 'orbit-Lantern-quietly-58-mosaic' }, me);
    expect(ok.status).toBe(200);
    expect((await get(app, '/account/security', me)).body).toEqual({ withdrawalsLockedUntil: null, reasons: [], knownDevices: [] });
    expect((await get(app, '/account/security', second)).status).toBe(401);

    const third = await post(app, '/auth/login', { email: user.email, password: 'orbit-Lantern-quietly-58-mosaic' });
    const reset = await post(app, '/account/2fa/reset', {}, me);
    expect(reset.status).toBe(200);
    expect((await get(app, '/account/security', { token: third.body.token as string })).status).toBe(401);
    expect((await get(app, '/account/security', me)).status).toBe(200);
  });
});

describe('PROTECTION, read by the launcher only', () => {
  it('parses the four names; unset or empty is the shield; anything else is a start-up error', () => {
    expect(PROTECTIONS.map((p) => parseProtection(` ${p} `))).toEqual(['shield', 'none', 'express-rate-limit', 'rlf-recipe']);
    expect(parseProtection(undefined)).toBe('shield');
    expect(parseProtection('  ')).toBe('shield');
    expect(() => parseProtection('fort-knox')).toThrow(ExchangeConfigError);
    expect(() => parseProtection('fort-knox')).toThrow(/PROTECTION must be one of shield, none, express-rate-limit, rlf-recipe/);
  });

  it('npm run example (bench/exchange/launcher.ts) starts the baseline PROTECTION names; the example’s own main.ts ignores it', async () => {
    const users = JSON.stringify([{ email: 'zed@example.test', password: 'pw-zed-123', totpSecret: 'U75W2RZ6LKUOPKY6XQ4BYEQE3HLCT6G6' }]);
    const start = (entry: string, protection: string) =>
      startServer({
        args: ['--import', 'tsx', entry],
        env: { PORT: '0', PROTECTION: protection, SHIELD_SECRET: SECRET, EXAMPLE_USERS: users, REDIS_URL: '' },
        ready: /\[exchange\] listening on :(\d+)/,
        timeoutMs: 60_000,
      });
    const servers = await Promise.all([start('bench/exchange/launcher.ts', 'rlf-recipe'), start('bench/exchange/launcher.ts', ''), start('examples/exchange-server/main.ts', 'none')]);
    try {
      const health = await Promise.all(servers.map(async (s) => (await fetch(`http://127.0.0.1:${s.port}/healthz`)).json()));
      expect(health).toEqual([
        { ok: true, protection: 'rlf-recipe' },
        { ok: true, protection: 'shield' },
        { ok: true, protection: 'shield' },
      ]);
      expect(servers[0]!.stdout()).toContain('(protection: rlf-recipe,');
      expect(servers[0]!.stdout()).not.toContain('operator console');
      // The baseline serves no shield routes; the shield does.
      expect((await fetch(`http://127.0.0.1:${servers[0]!.port}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${servers[1]!.port}/metrics`)).status).toBe(200);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  it('the launcher exits 2 with the named error for an unknown PROTECTION, before listening', async () => {
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/exchange/launcher.ts'],
        { env: { PATH: process.env.PATH ?? '', SHIELD_SECRET: SECRET, PORT: '0', PROTECTION: 'fort-knox' }, encoding: 'utf8', timeout: 20_000 },
        (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('PROTECTION must be one of shield, none, express-rate-limit, rlf-recipe; got "fort-knox".');
    expect(result.stdout).not.toContain('listening');
  });
});
