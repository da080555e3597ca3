import { expect } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { type ClientOptions, post } from './helpers.js';

/**
 * The first step of an email change (`POST /account/email`): the example "emails" a code to the
 * new address; this reads it from the outbox, ready for `POST /account/email/confirm`.
 */
export async function startEmailChange(exchange: ExchangeApp, email: string, client: ClientOptions): Promise<{ verificationCode: string }> {
  const res = await post(exchange.app, '/account/email', { email }, client);
  expect(res.status, res.text).toBe(200);
  expect(res.body).toEqual({ status: 'verification_sent' });
  const verificationCode = exchange.outbox.latestCode(email);
  expect(verificationCode).toMatch(/^\d{6}$/);
  return { verificationCode: verificationCode! };
}

/** Both steps, from a client whose confirm the shield lets through at once (a known device). */
export async function changeEmail(exchange: ExchangeApp, email: string, client: ClientOptions) {
  const body = await startEmailChange(exchange, email, client);
  return post(exchange.app, '/account/email/confirm', body, client);
}
