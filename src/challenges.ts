import { randomBytes } from 'node:crypto';
import type { ChallengeOptions } from './config.js';
import { type Keyer, storeKeys } from './keys.js';
import type { Store } from './stores/store.js';

/** What a challenge is bound to. Stored under the hash of its token, never the token. */
export interface ChallengeBinding {
  /** HMAC of the normalised address (login) or of the app user id (credential change). */
  readonly account: string;
  /** HMAC of the device id the challenge was issued to; null when the client had none. */
  readonly device: string | null;
  /**
   * The app user id whose second factor answers it. Null for a challenge issued after a wrong
   * password: it can never be passed, but looks and behaves exactly like one that can.
   */
  readonly userId: string | null;
  /** `login` or a credential-change kind. */
  readonly purpose: string;
}

interface StoredChallenge extends ChallengeBinding {
  readonly expiresAt: number;
}

export type ChallengeFailure = 'unknown' | 'expired' | 'wrong-device' | 'wrong-purpose' | 'too-many-attempts' | 'wrong-code' | 'replayed';

export type ChallengeOutcome =
  | { readonly ok: true; readonly binding: ChallengeBinding }
  | { readonly ok: false; readonly failure: ChallengeFailure; readonly binding?: ChallengeBinding };

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Step-up challenges: 256-bit random tokens, single use (atomic take), bound to account,
 * device and purpose, expiring, and limited in attempts.
 */
export class Challenges {
  constructor(
    /** Runs a store operation (through the insurance store while the primary is down). */
    private readonly run: <T>(fn: (store: Store) => Promise<T>) => Promise<T>,
    private readonly key: Keyer,
    private readonly options: ChallengeOptions,
    private readonly now: () => number,
  ) {}

  get ttlSec(): number {
    return this.options.ttlSec;
  }

  async issue(binding: ChallengeBinding): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const record: StoredChallenge = { ...binding, expiresAt: this.now() + this.options.ttlSec * 1000 };
    const key = storeKeys.challenge(this.key('chal', token));
    await this.run((store) => store.set(key, JSON.stringify(record), this.options.ttlSec * 1000));
    return token;
  }

  /**
   * Check a token and, if `checkCode` accepts the code for the bound user, consume it.
   * `expect` restricts which challenges this route accepts.
   */
  async verify(
    token: unknown,
    expect: { device: string | null; purpose: string; account?: string },
    checkCode: (userId: string) => Promise<boolean>,
    /** Asked before the code is checked; false refuses the attempt as too many (per-account cap). */
    gate: (binding: ChallengeBinding) => Promise<boolean> = async () => true,
  ): Promise<ChallengeOutcome> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return { ok: false, failure: 'unknown' };
    const id = this.key('chal', token);
    const key = storeKeys.challenge(id);
    const raw = await this.run(async (store) => (await store.read({ counters: [], keys: [key] })).values[0]);
    if (raw === undefined) return { ok: false, failure: 'unknown' };
    const record = parseRecord(raw);
    if (!record) return { ok: false, failure: 'unknown' };
    const binding: ChallengeBinding = record;
    if (record.expiresAt <= this.now()) {
      await this.run((store) => store.delete(key));
      return { ok: false, failure: 'expired', binding };
    }
    // Every presentation counts, right or wrong, so guessing a 6-digit code is hopeless. The
    // record outlives its last allowed attempt so the next one is told "too many" (429).
    const attempts = await this.run((store) => store.increment(storeKeys.challengeAttempts(id), this.options.ttlSec * 1000));
    if (attempts > this.options.maxAttempts) {
      await this.run((store) => store.delete(key));
      return { ok: false, failure: 'too-many-attempts', binding };
    }
    if (record.purpose !== expect.purpose || (expect.account !== undefined && record.account !== expect.account)) {
      return { ok: false, failure: 'wrong-purpose', binding };
    }
    if (record.device !== expect.device) {
      return { ok: false, failure: 'wrong-device', binding };
    }
    if (!(await gate(binding))) return { ok: false, failure: 'too-many-attempts', binding };
    if (record.userId === null || !(await checkCode(record.userId))) {
      return { ok: false, failure: 'wrong-code', binding };
    }
    // Only one concurrent presentation of a right code can take the record.
    if ((await this.run((store) => store.take(key))) === undefined) return { ok: false, failure: 'replayed', binding };
    return { ok: true, binding };
  }
}

function parseRecord(raw: string): StoredChallenge | undefined {
  try {
    const value = JSON.parse(raw) as StoredChallenge;
    return typeof value === 'object' && value !== null && typeof value.account === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
