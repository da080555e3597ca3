import type { Request } from 'express';
import type { Reason } from '../../engine/decision.js';
import type { ShieldEngine } from '../../engine/engine.js';
import type { CounterRef, CounterSpec } from '../../stores/store.js';

/**
 * Wrong current passwords one session may try per hour before its credential changes need a
 * second factor. Per session, not per IP: a stolen session moved from address to address is
 * still one session; and not per account when the app names its sessions, so a stranger's
 * guessing never makes the owner's own fresh session step up. (Without session ids the count
 * is per account, and the owner steps up, which the owner can always pass.)
 */
export const CURRENT_PASSWORD_GUESSES: CounterSpec = { name: 'fail_curpw', points: 5, durationSec: 3600 };

/** The guess counter of a session (or of the account when the app gives no session id). */
export function guessCounter(engine: ShieldEngine, account: string, sessionId: string | undefined): CounterRef {
  const session = sessionId === undefined ? '' : `:${engine.sessionKey(sessionId)}`;
  return { spec: CURRENT_PASSWORD_GUESSES, key: `{${account}}${session}` };
}

/** A reason to step up when the counter (read with the assessment) has reached its limit. */
export function guessingReasons(consumed: number | undefined): Reason[] {
  if (consumed === undefined || consumed < CURRENT_PASSWORD_GUESSES.points) return [];
  return [{ signal: 'velocity.current_password', points: 0, detail: `${consumed} wrong current passwords in 1 h (limit ${CURRENT_PASSWORD_GUESSES.points})` }];
}

type VerifyCurrentPassword = (userId: string, password: string, req: Request) => boolean | Promise<boolean>;

/** The app's answer; a throwing callback is the app's error, handed to Express. */
export async function checkCurrentPassword(verify: VerifyCurrentPassword, userId: string, password: string, req: Request): Promise<{ right: boolean; error?: unknown }> {
  try {
    return { right: (await verify(userId, password, req)) === true };
  } catch (error) {
    return { right: false, error };
  }
}
