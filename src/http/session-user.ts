import type { Request } from 'express';
import type { SecondFactor } from '../challenges/challenges.js';

/** Who the app says is signed in on this request. */
export interface SessionUser {
  /** The app's own user id. */
  userId: string;
  /** The account's address: keys device and velocity state shared with login, and feeds zxcvbn. */
  email: string;
  /** When the session authenticated; old sessions changing credentials are riskier. */
  sessionStartedAt?: number | Date;
  /** The account's second factor for step-up: `totp` (default, the app's check) or `email` (a code the shield sends through `sendCode`). */
  factor?: SecondFactor;
}

export type GetUser<U> = (req: Request) => U | undefined | null | Promise<U | undefined | null>;

/** The app's answer, checked: anything odd counts as "not signed in". */
export async function resolveUser<U extends { userId: string }>(getUser: GetUser<U>, req: Request): Promise<U | undefined> {
  const user = await getUser(req);
  if (!user || typeof user.userId !== 'string' || user.userId.length === 0) return undefined;
  return user;
}
