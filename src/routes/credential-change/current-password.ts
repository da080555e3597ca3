import type { Assessment, ShieldCore } from '../../engine/engine.js';
import type { CounterRef, CounterSpec } from '../../stores/store.js';
import type { Reason } from '../../engine/decision.js';

/**
 * Wrong current passwords one session may try per hour before its credential changes need a
 * second factor. Per session, not per IP: a stolen session moved from address to address is
 * still one session; and not per account when the app names its sessions, so a stranger's
 * guessing never makes the owner's own fresh session step up. (Without session ids the count
 * is per account, and the owner steps up, which the owner can always pass.)
 */
export const CURRENT_PASSWORD_GUESSES: CounterSpec = { name: 'fail_curpw', points: 5, durationSec: 3600 };

/** The guess counter of a session (or of the account when the app gives no session id). */
export function guessCounter(core: ShieldCore, account: string, sessionId: string | undefined): CounterRef {
  const session = sessionId === undefined ? '' : `:${core.key('user', `session\0${sessionId}`)}`;
  return { spec: CURRENT_PASSWORD_GUESSES, key: `{${account}}${session}` };
}

/** A reason to step up when the counter has reached its limit; none otherwise. */
export async function guessingReasons(core: ShieldCore, counter: CounterRef): Promise<Reason[]> {
  const { value } = await core.insured.run((s) => s.read({ counters: [counter], keys: [] }));
  const consumed = value.counters[0]?.consumed ?? 0;
  if (consumed < CURRENT_PASSWORD_GUESSES.points) return [];
  return [{ signal: 'velocity.current_password', points: 0, detail: `${consumed} wrong current passwords in 1 h (limit ${CURRENT_PASSWORD_GUESSES.points})` }];
}

/** Like a failed login (source and account), and against the session's own guess counter. */
export async function countWrongCurrentPassword(core: ShieldCore, assessment: Assessment, counter: CounterRef): Promise<void> {
  await Promise.all([core.record(assessment, 'failure'), core.insured.run((s) => s.add([{ ...counter, points: 1 }]))]).catch(() => undefined);
}
