import { describe, expect, it } from 'vitest';
import { ShieldConfigError, type WithdrawalsUnlockedEvent } from '../../src/index.js';
import { LEAKED_UNKNOWN } from '../example/helpers.js';
import { changePasswordUntilLocked, rawLogin, screenshot, signInFully, useBrowserAndExchange, withdraw } from './browser.js';

const start = useBrowserAndExchange();

describe('browser: operator console at /admin', () => {
  it('asks for the admin password and refuses an unlock that lacks the console header', async () => {
    const { url, exchange } = await start();
    expect((await fetch(`${url}/admin/`)).status).toBe(401);
    const wrong = await fetch(`${url}/admin/`, { headers: { authorization: `Basic ${btoa('admin:not-the-token')}` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    const auth = `Basic ${btoa(`admin:${exchange.admin!.password}`)}`;
    const forged = await fetch(`${url}/admin/api/unlock`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x', reason: 'forged' }),
    });
    expect(forged.status).toBe(403);
  });

  it('in production without ADMIN_TOKEN there is no console at all', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const { url, exchange } = await start();
      expect(exchange.admin).toBeUndefined();
      expect((await fetch(`${url}/admin/`, { headers: { authorization: `Basic ${btoa('admin:')}` } })).status).toBe(404);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('rejects a mistyped or out-of-range console option at mount time with a named error', async () => {
    const { exchange } = await start();
    const codeOf = (options: object) => {
      try {
        exchange.shield!.console(options);
      } catch (error) {
        return error instanceof ShieldConfigError ? error.code : String(error);
      }
      return 'accepted';
    };
    expect(codeOf({ windowMinutes: 500 })).toBe('INVALID_VALUE');
    expect(codeOf({ pollMS: 1000 })).toBe('UNKNOWN_OPTION');
    expect(codeOf({ actor: 'admin' })).toBe('INVALID_TYPE');
    expect(codeOf({ windowMinutes: 5, pollMs: 1000, actor: () => 'ops' })).toBe('accepted');
  });

  it('after an attack burst the console lists blocks and challenges, by keyed id only', async () => {
    const { cast, url, exchange, newPage } = await start();
    const page = await newPage({ admin: true });
    await page.goto('/admin');
    await page.getByRole('heading', { name: 'Operator console' }).waitFor();

    // One noisy source trying many addresses (blocked once over its limit), and a spread of
    // sources replaying leaked addresses (stepped up: they cannot answer).
    const spread = await Promise.all(
      Array.from({ length: 12 }, (_, i) => rawLogin(url, `203.0.${113 + (i % 3)}.${10 + i}`, i % 2 ? cast.leakedAlice.email : LEAKED_UNKNOWN, 'Summer2024!')),
    );
    expect(spread.every((s) => s === 401)).toBe(true);
    const targets = [cast.leakedAlice.email, cast.leakedBob.email, LEAKED_UNKNOWN, cast.carol.email, 'nobody@example.test'];
    for (let i = 0; i < 26; i++) await rawLogin(url, '198.51.100.66', targets[i % targets.length]!, `guess-${i}`);
    // An operator's own lock (admin API) shows up with its Unlock control.
    await exchange.shield!.locks.lock(exchange.users.findByEmail(cast.leakedBob.email)!.id, { hours: 24, reason: 'login burst against this account', actor: 'risk team' });

    const decisions = page.locator('#decisions tbody');
    await decisions.getByText('block', { exact: true }).first().waitFor();
    await decisions.getByText('challenge', { exact: true }).first().waitFor();
    expect(Number(await page.locator('#count-block').textContent())).toBeGreaterThan(0);
    expect(Number(await page.locator('#count-challenge').textContent())).toBeGreaterThan(0);
    expect(await page.locator('#sources tbody tr').count()).toBeGreaterThan(1);
    expect(await page.locator('#accounts tbody tr').count()).toBeGreaterThan(1);
    await page.locator('#reasons tbody').getByText('velocity.ip').waitFor();
    const lockRow = page.locator('#locks tbody tr').filter({ hasText: 'login burst against this account (by risk team)' });
    await lockRow.getByRole('button', { name: 'Unlock' }).waitFor();

    // What the console shows and sends is keyed: no address, IP or app user id appears in it.
    const text = (await page.locator('body').textContent()) ?? '';
    const auth = `Basic ${btoa(`admin:${exchange.admin!.password}`)}`;
    const state = await (await fetch(`${url}/admin/api/state`, { headers: { authorization: auth } })).text();
    const userId = exchange.users.findByEmail(cast.leakedBob.email)!.id;
    for (const raw of ['198.51.100', '203.0.11', '@example.test', userId]) {
      expect(text).not.toContain(raw);
      expect(state).not.toContain(raw);
    }
    await screenshot(page, 'console', 1500);
  });

  it('an unlock from the console, with a reason, lets the owner withdraw again', async () => {
    const { cast, exchange, newPage } = await start();
    const unlocked: WithdrawalsUnlockedEvent[] = [];
    exchange.shield!.on('withdrawals.unlocked', (e) => unlocked.push(e));
    const carol = cast.carol;

    const user = await newPage();
    await signInFully(user, carol);
    await changePasswordUntilLocked(user, carol, 'mossy-Canyon-ledger-4471-arch');

    const admin = await newPage({ admin: true });
    await admin.goto('/admin');
    const lockRow = admin.locator('#locks tbody tr').filter({ hasText: 'password changed' });
    await lockRow.waitFor();
    await lockRow.getByRole('button', { name: 'Unlock' }).click();
    // A reason is required: the browser refuses the empty field and nothing is unlocked.
    expect(unlocked).toHaveLength(0);
    await lockRow.getByLabel('Reason').fill('owner confirmed the change by phone');
    await lockRow.getByRole('button', { name: 'Unlock' }).click();
    await admin.getByRole('status').filter({ hasText: 'Unlocked' }).waitFor();
    await admin.locator('#unlocks').getByText('owner confirmed the change by phone').waitFor();
    expect(unlocked).toEqual([expect.objectContaining({ actor: 'admin', reason: 'owner confirmed the change by phone' })]);
    await admin.getByText('No withdrawal locks seen.').waitFor();

    await withdraw(user, '0.1');
    await user.getByRole('status').filter({ hasText: 'Withdrawal requested' }).waitFor();
    expect(exchange.wallet.byUser(exchange.users.findByEmail(carol.email)!.id).length).toBe(1);
  });
});
