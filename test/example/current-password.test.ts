import { describe, expect, it } from 'vitest';
import { type ClientOptions, loginAndEnrol, post, type TestUser, useExchange } from './helpers.js';

/**
 * Issue 10, row 10: a stolen session could guess `currentPassword` on /account/password without
 * limit (100 / 100 wrong answered 403, nothing counted). Wrong current passwords now count like
 * failed logins (source and account) and per session: after 5 the session must step up, whatever
 * address it comes from, and the right password no longer gets through without the second factor.
 */

const start = useExchange();
const NEW_PASSWORD = 'orbit-Lantern-quietly-58-mosaic';

const guess = (app: Parameters<typeof post>[0], password: string, client: ClientOptions) =>
  post(app, '/account/password', { currentPassword: password, newPassword: NEW_PASSWORD }, client);

async function stolenSession(app: Parameters<typeof post>[0], user: TestUser) {
  // The owner's session and device cookie, taken together (malware, a shared computer).
  const home = await loginAndEnrol(app, user, { ip: '192.0.2.80' });
  expect(home.cookie).toMatch(/^as_dev=/);
  return { home: { ...home, ip: '192.0.2.80' }, stolen: { token: home.token, cookie: home.cookie } };
}

describe('POST /account/password: wrong current passwords', () => {
  it.each([
    ['from one address', (_i: number) => '203.0.113.9'],
    ['from a new address for every guess', (i: number) => `198.51.${100 + i}.${i + 1}`],
  ])('a stolen session guessing %s gets 403 at most 5 times, then only step-up, even for the right password', async (_label, ipOf) => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const { stolen } = await stolenSession(app, user);
    const statuses: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await guess(app, `guess-${i}-not-it`, { ...stolen, ip: ipOf(i) });
      statuses.push(`${res.status} ${res.body.error}`);
    }
    const forbidden = statuses.filter((s) => s === '403 forbidden').length;
    expect(forbidden, statuses.join(', ')).toBeLessThanOrEqual(5);
    expect(forbidden).toBeGreaterThan(0);
    // Once stepped up, never a 403 again: nothing more to learn without the second factor.
    expect(statuses.slice(forbidden), statuses.join(', ')).toEqual(Array(12 - forbidden).fill('401 step_up_required'));
    const right = await guess(app, user.password, { ...stolen, ip: ipOf(99) });
    expect(right.status).toBe(401);
    expect(right.body.error).toBe('step_up_required');
    expect(await exchange.users.authenticate(user.email, user.password)).toBeDefined();
  });

  it('counts them against the source like failed logins: the owner password from that address is stepped up', async () => {
    const { cast, app } = await start();
    const user = cast.carol;
    const { stolen } = await stolenSession(app, user);
    const ip = '203.0.113.10';
    // Before any guessing the known device logs straight in from there.
    expect((await post(app, '/auth/login', { email: user.email, password: user.password }, { ...stolen, ip })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await guess(app, `guess-${i}`, { ...stolen, ip })).status).toBe(403);
    const login = await post(app, '/auth/login', { email: user.email, password: user.password }, { ...stolen, ip });
    expect(login.status).toBe(401);
    expect(login.body.error).toBe('step_up_required');
  });

  it("the owner's own fresh session on the known device changes the password at once while a stranger guesses", async () => {
    const { cast, app, exchange } = await start();
    const user = cast.carol;
    const { home, stolen } = await stolenSession(app, user);
    for (let i = 0; i < 8; i++) await guess(app, `guess-${i}`, { ...stolen, ip: `198.51.${100 + i}.7` });
    // The owner signs in again at home (same device) and changes the password: no step-up.
    const fresh = await loginAndEnrol(app, user, { ip: home.ip, cookie: home.cookie });
    expect(fresh.challenged).toBe(false);
    const res = await guess(app, user.password, { token: fresh.token, cookie: home.cookie, ip: home.ip });
    expect(res.status, res.text).toBe(200);
    expect(await exchange.users.authenticate(user.email, NEW_PASSWORD)).toBeDefined();
    // And the stolen session ended with the change.
    expect((await guess(app, NEW_PASSWORD, { ...stolen, ip: '203.0.113.11' })).status).toBe(401);
    expect((await guess(app, NEW_PASSWORD, { ...stolen, ip: '203.0.113.11' })).body.error).toBe('unauthorized');
  });
});
