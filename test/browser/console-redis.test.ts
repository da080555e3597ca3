import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStoreFromUrl, type RedisStore } from '../../src/index.js';
import { testUsers } from '../example/helpers.js';
import { type RedisProcess, startRedis } from '../support/redis.js';
import { changePasswordUntilLocked, rawLogin, signInFully, useBrowserAndExchange, withdraw } from './browser.js';

/**
 * Two exchange instances sharing one Redis, as behind a load balancer: each console shows its
 * own process's decisions, and a lock lifted through the other instance leaves the console
 * that saw it, because tracked locks are re-read from the store.
 */
const start = useBrowserAndExchange();
let redis: RedisProcess;
const stores: RedisStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await redis?.stop();
});

const newStore = () => {
  const store = createRedisStoreFromUrl(redis.url);
  stores.push(store);
  return store;
};

describe('browser: operator consoles of two instances on one Redis', () => {
  it("each console shows its own decisions; an unlock on the other instance clears the lock from this one's table", async () => {
    const cast = testUsers();
    const a = await start({ shieldOptions: { store: newStore() } }, cast);
    const b = await start({ shieldOptions: { store: newStore() } }, cast);
    const consoleA = await a.newPage({ admin: true });
    const consoleB = await b.newPage({ admin: true });
    await consoleA.goto('/admin');
    await consoleB.goto('/admin');

    for (let i = 0; i < 3; i++) await rawLogin(a.url, `203.0.113.${20 + i}`, cast.leakedErin.email, `guess-${i}`);
    await consoleA.locator('#decisions tbody').getByText('challenge', { exact: true }).first().waitFor();
    await consoleB.getByText('No decisions yet.').waitFor();
    expect(Number(await consoleB.locator('#count-challenge').textContent())).toBe(0);

    const frank = cast.frank;
    const user = await a.newPage();
    await signInFully(user, frank);
    await changePasswordUntilLocked(user, frank, 'ember-Quill-harbor-5823-slate');
    await consoleA.locator('#locks tbody tr').filter({ hasText: 'password changed' }).waitFor();
    // B enforces the shared lock but never saw the event: its table says so rather than guess.
    expect(await consoleB.getByText('No withdrawal locks seen.').isVisible()).toBe(true);

    await b.exchange.shield!.locks.unlock(b.exchange.users.findByEmail(frank.email)!.id, { reason: 'owner called support', actor: 'support desk' });
    await consoleA.getByText('No withdrawal locks seen.').waitFor({ timeout: 15_000 });
    await withdraw(user, '0.2');
    await user.getByRole('status').filter({ hasText: 'Withdrawal requested' }).waitFor();
  });
});
