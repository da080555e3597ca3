import { describe, expect, it } from 'vitest';
import { totpCode } from '../../examples/exchange-server/totp.js';
import { answerStepUp, screenshot, signIn, useBrowserAndExchange, withdraw } from './browser.js';

const start = useBrowserAndExchange();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('browser: account page', () => {
  it('a password change asks for the code, then shows the lock banner and refuses a withdrawal', async () => {
    // Sessions older than a second count as stale, so the change is stepped up.
    const { cast, newPage } = await start({ shieldOptions: { credentialChange: { maxSessionAgeSec: 1 } } });
    const alice = cast.leakedAlice;
    const page = await newPage();
    expect(await signIn(page, alice)).toBe('step-up');
    await answerStepUp(page, alice);
    expect(await page.getByRole('alert').count()).toBe(0);
    await sleep(1100);

    const status = page.locator('#password-message');
    await page.getByLabel('Current password').fill(alice.password);
    await page.getByLabel('New password').fill('password1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await status.filter({ hasText: 'too easy to guess' }).waitFor();
    // zxcvbn's own words, not just a refusal.
    expect((await status.locator('li').allTextContents()).length).toBeGreaterThan(0);

    const strong = 'quartz-Lantern-orbit-7731-sable';
    await page.getByLabel('New password').fill(strong);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByLabel('Code').waitFor();
    expect(await page.getByText('authenticator app').first().isVisible()).toBe(true);
    await page.getByLabel('Code').fill(await totpCode(alice.totpSecret));
    await page.getByRole('button', { name: 'Change password' }).click();
    await status.filter({ hasText: 'Password changed.' }).waitFor();

    const banner = page.getByRole('alert').filter({ hasText: 'Withdrawals locked until' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('password changed');

    await withdraw(page, '0.25');
    await page.getByRole('status').filter({ hasText: 'Withdrawal refused: withdrawals are locked until' }).waitFor();
    await screenshot(page, 'locked-account');
  });
});
