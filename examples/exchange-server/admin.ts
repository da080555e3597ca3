import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import basicAuth from 'express-basic-auth';
import { ExchangeConfigError } from './options.js';

/** The console's one operator account: HTTP Basic, user `admin`, password ADMIN_TOKEN. */
export const ADMIN_USER = 'admin';
/** Shorter tokens are guessable over HTTP; a random one is 24 characters. */
const MIN_TOKEN_LENGTH = 12;

export interface AdminCredentials {
  readonly user: string;
  readonly password: string;
  /** True when ADMIN_TOKEN was absent and this process picked a random one (development only). */
  readonly generated: boolean;
}

/**
 * The console password: ADMIN_TOKEN, or a random one for development. In production without
 * one there is no console at all (undefined): never an open or a guessable one.
 */
export function adminCredentials(token: string | undefined, nodeEnv = process.env.NODE_ENV): AdminCredentials | undefined {
  if (token !== undefined) {
    if (token.length < MIN_TOKEN_LENGTH) throw new ExchangeConfigError(`ADMIN_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters.`);
    return { user: ADMIN_USER, password: token, generated: false };
  }
  if (nodeEnv === 'production') return undefined;
  return { user: ADMIN_USER, password: randomBytes(18).toString('base64url'), generated: true };
}

/** HTTP Basic in front of `/admin`; the browser asks for the password (WWW-Authenticate). */
export function adminAuth(credentials: AdminCredentials): RequestHandler {
  return basicAuth({
    users: { [credentials.user]: credentials.password },
    challenge: true,
    realm: 'account-shield operator console',
    unauthorizedResponse: { error: 'unauthorized' },
  });
}
