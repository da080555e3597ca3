import { describe, expect, it } from 'vitest';
import { totpCode } from '../../examples/exchange-server/totp.js';
import { testUsers } from '../example/helpers.js';
import { answerStepUp, enrolDevice, rawLogin, screenshot, signIn, useBrowserAndExchange } from './browser.js';

const start = useBrowserAndExchange();

describe('browser: sign-in page', () => {
  it('signs in with a TOTP code at the step-up prompt, which says where the code comes from', async () => {
    const { cast, newPage } = await start();
    const page = await newPage();
    await page.goto('/');
    await screenshot(page, 'sign-in');
    expect(await signIn(page, cast.leakedAlice)).toBe('step-up');
    const prompt = page.getByRole('main');
    expect(await prompt.textContent()).toContain('authenticator app');
    expect(await prompt.textContent()).toContain('email');
    await page.getByLabel('Code').fill('123456');
    await screenshot(page, 'step-up');
    await page.getByLabel('Code').fill('');
    await answerStepUp(page, cast.leakedAlice);
    expect(await page.getByText(`Signed in as ${cast.leakedAlice.email}`).isVisible()).toBe(true);
  });

  it('an account without an authenticator app signs in with the code from the email just sent', async () => {
    const users = testUsers();
    const { cast, exchange, newPage } = await start({}, { ...users, grace: { ...users.grace, totpSecret: undefined } });
    const page = await newPage();
    expect(await signIn(page, cast.grace)).toBe('step-up');
    const sent = exchange.outbox.list(cast.grace.email).at(-1);
    expect(sent?.code).toMatch(/^\d{6}$/);
    await page.getByLabel('Code').fill(sent!.code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();
  });

  it('a wrong password says so in words and stays on the sign-in form', async () => {
    const { cast, newPage } = await start();
    const page = await newPage();
    // From a known device the shield lets the attempt through, so the password check answers.
    await enrolDevice(page, cast.leakedBob);

    expect(await signIn(page, cast.leakedBob, 'not-bobs-password')).toBe('refused');
    expect(await page.getByRole('alert').textContent()).toBe('Wrong email or password.');
    expect(await page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Account' }).count()).toBe(0);
  });

  it('a mistyped password on a new device: the right code then says the password was wrong, back on the sign-in form', async () => {
    const { cast, newPage } = await start();
    const page = await newPage();
    // The prompt is the same for a right and a wrong password (no validity oracle) ...
    expect(await signIn(page, cast.carol, `${cast.carol.password}x`)).toBe('step-up');
    await page.getByLabel('Code').fill(await totpCode(cast.carol.totpSecret));
    await page.getByRole('button', { name: 'Verify' }).click();
    // ... and only the owner, who has the code, learns that the password was the problem.
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
    expect(await page.getByLabel('Email').isVisible()).toBe(true);
    // The device passed the second factor, so the retyped password is enough.
    expect(await signIn(page, cast.carol)).toBe('account');
  });

  it('too many attempts from this address: the page says how long to wait and holds the button', async () => {
    const { cast, url, newPage } = await start();
    // The browser connects from 127.0.0.1: an attacker sharing that address used it up first.
    for (let i = 0; i < 25; i++) await rawLogin(url, '127.0.0.1', `someone${i}@elsewhere.example`, `guess-${i}`);
    const page = await newPage();
    expect(await signIn(page, cast.carol)).toBe('refused');
    expect(await page.getByRole('alert').textContent()).toMatch(/^Too many attempts\. Try again in \d+ seconds?\.$/);
    expect(await page.getByRole('button', { name: 'Sign in' }).isDisabled()).toBe(true);
  });

  it('a known device signs in without a prompt', async () => {
    const { cast, newPage } = await start();
    const page = await newPage();
    await enrolDevice(page, cast.leakedDave);

    // Same browser, so the device cookie goes back: a password alone is enough now.
    expect(await signIn(page, cast.leakedDave)).toBe('account');
    expect(await page.getByRole('button', { name: 'Verify' }).count()).toBe(0);
    await page.getByRole('listitem').filter({ hasText: 'last seen' }).first().waitFor();
  });
});
