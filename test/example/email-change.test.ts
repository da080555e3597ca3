import { describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { MAX_STARTS_PER_HOUR } from '../../examples/exchange-server/email-change.js';
import { guardsFor, type Protection } from '../../bench/exchange/protection.js';
import { type ClientOptions, loginAndEnrol, post, type TestUser, useExchange } from './helpers.js';

/**
 * Issue 10, row 12: `POST /account/email` answered `400 email_unavailable` for registered
 * addresses, so any account holder could test 100 addresses in 0.11 s. Now it answers the same
 * for free and taken addresses; a code goes to a free address and a notice to a taken one, and
 * only `POST /account/email/confirm` with the code makes the change (guarded and locked by the
 * shield), which for a taken address can never succeed.
 */

const start = useExchange();
const HOUR = 3_600_000;
const ADDRESS = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';

/** Everything a client sees of an answer except the Date header. */
function visible(res: Awaited<ReturnType<typeof post>>) {
  const { date: _date, ...headers } = res.headers;
  return { status: res.status, text: res.text, headers };
}

async function signIn(exchange: ExchangeApp, user: TestUser, ip = '192.0.2.90') {
  const session = await loginAndEnrol(exchange.app, user, { ip });
  return { token: session.token, cookie: session.cookie, ip } satisfies ClientOptions;
}

describe.each<Protection>(['shield', 'none'])('email change with PROTECTION=%s', (protection) => {
  it('answers a free and a registered address identically: status, body and headers', async () => {
    const { cast, exchange } = await start({ guards: guardsFor(protection) });
    const me = await signIn(exchange, cast.carol);
    const free = await post(exchange.app, '/account/email', { email: 'nobody-yet@example.test' }, me);
    const taken = await post(exchange.app, '/account/email', { email: cast.frank.email }, me);
    const takenOtherCase = await post(exchange.app, '/account/email', { email: cast.grace.email.toUpperCase() }, me);
    expect(free.status).toBe(200);
    expect(free.body).toEqual({ status: 'verification_sent' });
    expect(visible(taken)).toEqual(visible(free));
    expect(visible(takenOtherCase)).toEqual(visible(free));
  });

  it('sends a code to a free address, and only a notice to a registered one', async () => {
    const { cast, exchange } = await start({ guards: guardsFor(protection) });
    const me = await signIn(exchange, cast.carol);
    await post(exchange.app, '/account/email', { email: 'nobody-yet@example.test' }, me);
    await post(exchange.app, '/account/email', { email: cast.frank.email }, me);
    expect(exchange.outbox.list('nobody-yet@example.test')).toEqual([expect.objectContaining({ subject: 'Confirm your new email address', code: expect.stringMatching(/^\d{6}$/) })]);
    expect(exchange.outbox.list(cast.frank.email)).toEqual([expect.objectContaining({ code: '', subject: expect.stringMatching(/tried/) })]);
  });

  it('a registered address can never be confirmed, and moves nothing', async () => {
    const { cast, exchange } = await start({ guards: guardsFor(protection) });
    const me = await signIn(exchange, cast.carol);
    await post(exchange.app, '/account/email', { email: cast.frank.email }, me);
    for (const verificationCode of ['000000', '123456', '999999']) {
      const res = await post(exchange.app, '/account/email/confirm', { verificationCode }, me);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_code' });
    }
    expect(exchange.users.findByEmail(cast.frank.email)?.email).toBe(cast.frank.email);
    expect(exchange.users.findByEmail(cast.carol.email)).toBeDefined();
    expect((await post(exchange.app, '/wallet/withdrawals', { amount: '1', address: ADDRESS }, me)).status).toBe(201);
  });

  it('a wrong code five times drops the change; the right one afterwards does nothing', async () => {
    const { cast, exchange } = await start({ guards: guardsFor(protection) });
    const me = await signIn(exchange, cast.carol);
    await post(exchange.app, '/account/email', { email: 'carol.elsewhere@example.test' }, me);
    const right = exchange.outbox.latestCode('carol.elsewhere@example.test')!;
    const wrong = right === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++) expect((await post(exchange.app, '/account/email/confirm', { verificationCode: wrong }, me)).status).toBe(400);
    expect((await post(exchange.app, '/account/email/confirm', { verificationCode: right }, me)).status).toBe(400);
    expect(exchange.users.findByEmail('carol.elsewhere@example.test')).toBeUndefined();
  });

  it(`caps the changes one user starts at ${MAX_STARTS_PER_HOUR} an hour, whatever the addresses`, async () => {
    const { cast, exchange } = await start({ guards: guardsFor(protection) });
    const me = await signIn(exchange, cast.carol);
    for (let i = 0; i < MAX_STARTS_PER_HOUR; i++) {
      const email = i % 2 === 0 ? cast.frank.email : `free-${i}@example.test`;
      expect((await post(exchange.app, '/account/email', { email }, me)).status).toBe(200);
    }
    const over = await post(exchange.app, '/account/email', { email: 'one-more@example.test' }, me);
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ error: 'too_many_attempts' });
  });
});

describe('the confirm is the credential change the shield guards', () => {
  it('locks withdrawals 6 h after a confirm from the known device; starting alone locks nothing', async () => {
    const { cast, exchange } = await start();
    const me = await signIn(exchange, cast.carol);
    await post(exchange.app, '/account/email', { email: 'carol.moved@example.test' }, me);
    expect((await post(exchange.app, '/wallet/withdrawals', { amount: '1', address: ADDRESS }, me)).status).toBe(201);
    const before = Date.now();
    const verificationCode = exchange.outbox.latestCode('carol.moved@example.test');
    const res = await post(exchange.app, '/account/email/confirm', { verificationCode }, me);
    expect(res.status, res.text).toBe(200);
    const locked = await post(exchange.app, '/wallet/withdrawals', { amount: '1', address: ADDRESS }, me);
    expect(locked.status).toBe(423);
    expect(Date.parse(locked.body.lockedUntil)).toBeGreaterThanOrEqual(before + 6 * HOUR);
    expect(Date.parse(locked.body.lockedUntil)).toBeLessThan(before + 7 * HOUR);
  });

  it('a wrong code leaves no hold behind: withdrawals stay open', async () => {
    const { cast, exchange } = await start();
    const me = await signIn(exchange, cast.carol);
    await post(exchange.app, '/account/email', { email: 'carol.moved@example.test' }, me);
    const right = exchange.outbox.latestCode('carol.moved@example.test');
    const res = await post(exchange.app, '/account/email/confirm', { verificationCode: right === '000000' ? '000001' : '000000' }, me);
    expect(res.status).toBe(400);
    expect((await post(exchange.app, '/wallet/withdrawals', { amount: '1', address: ADDRESS }, me)).status).toBe(201);
  });
});
