import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import type { ExchangeOptions } from '../../examples/exchange-server/options.js';
import { totpCode } from '../../examples/exchange-server/totp.js';
import type { SeedUser } from '../../examples/exchange-server/users.js';
import { type Cast, startExchange, testUsers } from '../example/helpers.js';

/** Debian's chromium package (`.ci/run` installs it); browsers cannot be downloaded here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Each step waits at most this long: a broken page fails fast instead of at the test timeout. */
const STEP_TIMEOUT_MS = 8000;

export interface Running {
  readonly cast: Cast;
  readonly exchange: ExchangeApp;
  readonly url: string;
  /** A fresh browser profile: no cookies, so a new device to the shield. */
  newContext(options?: { admin?: boolean }): Promise<BrowserContext>;
  newPage(options?: { admin?: boolean }): Promise<Page>;
}

/**
 * One browser per test file; per test, an example exchange on a free port (fresh users, low
 * scrypt cost) and browser contexts that are closed after it.
 */
export function useBrowserAndExchange() {
  let browser: Browser | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** `cast`: pass the same users to several instances (they then agree on user ids). */
  return async (options: ExchangeOptions = {}, cast: Cast = testUsers()): Promise<Running> => {
    const exchange = await startExchange(cast, options);
    const server = createServer(exchange.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await exchange.close();
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const newContext = async ({ admin = false } = {}) => {
      const credentials = admin && exchange.admin ? { username: exchange.admin.user, password: exchange.admin.password } : undefined;
      const context = await browser!.newContext({ baseURL: url, httpCredentials: credentials, viewport: { width: 1280, height: 900 } });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      cleanups.push(() => context.close());
      return context;
    };
    return { cast, exchange, url, newContext, newPage: async (o) => (await newContext(o)).newPage() };
  };
}

/** Sign in through the page; answers the step-up prompt with the user's TOTP code when it appears. */
export async function signIn(page: Page, user: SeedUser, password = user.password): Promise<'account' | 'step-up' | 'refused'> {
  await page.goto('/');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const account = page.getByRole('heading', { name: 'Account' });
  // The Verify button exists on the step-up prompt only (the account page has its own Code field).
  const verify = page.getByRole('button', { name: 'Verify' });
  const refusal = page.getByRole('alert').filter({ hasText: /\S/ });
  await account.or(verify).or(refusal).waitFor();
  if (await account.isVisible()) return 'account';
  return (await verify.isVisible()) ? 'step-up' : 'refused';
}

export async function answerStepUp(page: Page, user: SeedUser): Promise<void> {
  await page.getByLabel('Code').fill(await totpCode(user.totpSecret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Account' }).waitFor();
}

/** Sign in as a person would: the password, then the code if the page asks for it. */
export async function signInFully(page: Page, user: SeedUser): Promise<void> {
  if ((await signIn(page, user)) === 'step-up') await answerStepUp(page, user);
}

/** Sign in (stepping up), then sign out: the browser now holds a device the account knows. */
export async function enrolDevice(page: Page, user: SeedUser): Promise<void> {
  expect(await signIn(page, user)).toBe('step-up');
  await answerStepUp(page, user);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

/** Change the password on the account page (no step-up expected) and wait for the lock banner. */
export async function changePasswordUntilLocked(page: Page, user: SeedUser, newPassword: string): Promise<void> {
  await page.getByLabel('Current password').fill(user.password);
  await page.getByLabel('New password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('alert').filter({ hasText: 'Withdrawals locked until' }).waitFor();
}

/** Fill and send the Withdraw form. */
export async function withdraw(page: Page, amount: string): Promise<void> {
  await page.getByLabel('Amount').fill(amount);
  await page.getByLabel('Address').fill('bc1qexampleaddress0000000000000000');
  await page.getByRole('button', { name: 'Withdraw' }).click();
}

/**
 * `UPDATE_SCREENSHOTS=1 npx vitest run test/browser` refreshes docs/screenshots/ from the
 * same flows the tests drive; otherwise nothing is written.
 */
export async function screenshot(page: Page, name: string, height?: number): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await mkdir('docs/screenshots', { recursive: true });
  if (height !== undefined) await page.setViewportSize({ width: 1280, height });
  await page.screenshot({ path: `docs/screenshots/${name}.png` });
}

/** A login over plain HTTP from `ip` (presented as X-Forwarded-For, trusted from loopback). */
export async function rawLogin(url: string, ip: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ email, password }),
  });
  await res.arrayBuffer();
  return res.status;
}
