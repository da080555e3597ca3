import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { ChallengeOptions, CodeDelivery, EmailCodeOptions, SecondFactorOptions } from '../config/config.js';
import { type Keyer } from '../identity/keyer.js';
import { random } from '../identity/random-pool.js';
import { storeKeys } from '../stores/key-layout.js';
import { UserIdSeal } from '../identity/sealed-user-id.js';
import type { CounterRef, CounterSpec, Store } from '../stores/store.js';
import type { Logger } from '../config/logger.js';

/** What a challenge is bound to. Stored under the hash of its token, never the token. */
/** The second factor an account answers step-up with: the app's TOTP check, or a code the shield emails. */
export type SecondFactor = 'totp' | 'email';

export interface ChallengeBinding {
  /** HMAC of the normalised address (login) or of the app user id (credential change). */
  readonly account: string;
  /** HMAC of the device id the challenge was issued to; null when the client had none. */
  readonly device: string | null;
  /**
   * The app user whose second factor answers it; null when no account owns the address (it can
   * never be passed, but looks and behaves exactly like one that can). Stored sealed.
   */
  readonly userId: string | null;
  /** `login` or a credential-change kind. */
  readonly purpose: string;
  /**
   * The challenge followed a right password (or a signed-in session). When false, the right
   * second factor only tells its owner that the password was wrong: no session.
   */
  readonly passwordOk: boolean;
  readonly factor: SecondFactor;
}

export type ChallengeRequest = Omit<ChallengeBinding, 'passwordOk' | 'factor'> & Partial<Pick<ChallengeBinding, 'passwordOk' | 'factor'>>;

export type ChallengeFailure = 'unknown' | 'expired' | 'wrong-device' | 'wrong-purpose' | 'too-many-attempts' | 'wrong-code' | 'replayed';

export type ChallengeOutcome =
  | { readonly ok: true; readonly binding: ChallengeBinding }
  /** The right second factor on a challenge that followed a wrong password: the owner's typo. */
  | { readonly ok: false; readonly failure: 'wrong-password'; readonly binding: ChallengeBinding }
  | {
      readonly ok: false;
      readonly failure: ChallengeFailure;
      readonly binding?: ChallengeBinding;
      /** Wrong codes counted so far on challenges that followed a right password (live ones). */
      readonly liveWrongCodes?: number;
    };

/** The app's check of a code for one of its users; gets `DECOY_USER_ID` when no one can pass. */
export type CodeCheck = (userId: string) => Promise<boolean>;

interface StoredChallenge {
  readonly a: string;
  readonly d: string | null;
  /** Sealed user id (the empty id when there is none; null in records of older versions). */
  readonly u: string | null;
  readonly p: string;
  readonly ok: boolean;
  readonly f: SecondFactor;
  readonly e: number;
}

interface StoredCode {
  readonly h: string;
  readonly e: number;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** The sealed user id of a challenge no user can pass: empty, which no app user id is (routes refuse empty ids). */
const NO_USER = '';
const CODE_DIGITS = 6;

/**
 * What `verifySecondFactor` is asked about when a challenge has no user (the address has no
 * account): the app does the same work for it as for a real user and answers false, so a
 * doomed challenge takes as long as a live one. Random per process; no app user has it.
 */
export const DECOY_USER_ID = `account-shield-decoy-${randomBytes(12).toString('base64url')}`;

export interface ChallengeDeps {
  /** Runs a store operation (through the insurance store while the primary is down). */
  readonly run: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
  readonly key: Keyer;
  readonly secret: string;
  readonly options: ChallengeOptions;
  readonly secondFactor: SecondFactorOptions;
  readonly specs: { readonly live: CounterSpec; readonly doomed: CounterSpec };
  readonly emailCode: EmailCodeOptions;
  readonly sendCode: ((userId: string, code: string, delivery: CodeDelivery) => void | Promise<void>) | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Step-up challenges: 256-bit random tokens, single use (atomic take), bound to account,
 * device and purpose, expiring, limited in attempts. Every presentation does the same work —
 * the same store operations and one call of the app's code check — whether the challenge
 * followed a right password, a wrong one, or an address with no account.
 */
export class Challenges {
  readonly #seal: UserIdSeal;
  /** What a challenge without a user is opened as when its record holds null (stored by an older version). */
  readonly #sealedNoUser: string;
  #warnedNoSender = false;

  constructor(private readonly deps: ChallengeDeps) {
    this.#seal = new UserIdSeal(deps.secret);
    this.#sealedNoUser = this.#seal.seal(NO_USER);
  }

  get ttlSec(): number {
    return this.deps.options.ttlSec;
  }

  /** `passwordOk` defaults to true (a signed-in session), `factor` to `totp`. */
  async issue(request: ChallengeRequest): Promise<string> {
    const { options, now, key, run } = this.deps;
    const binding: ChallengeBinding = {
      account: request.account,
      device: request.device,
      userId: request.userId,
      purpose: request.purpose,
      passwordOk: request.passwordOk ?? true,
      factor: request.factor ?? 'totp',
    };
    const token = random.base64url(32);
    const record: StoredChallenge = {
      a: binding.account,
      d: binding.device,
      // Sealed whether or not there is a user (none: the empty id, which no app user has): a
      // seal costs ~5 µs, so sealing only real users' ids would time a right password (or, with
      // lookupAccount, a registered address) apart from a wrong one on every step-up answer.
      u: this.#seal.seal(binding.userId ?? NO_USER),
      p: binding.purpose,
      ok: binding.passwordOk,
      f: binding.factor,
      e: now() + options.ttlSec * 1000,
    };
    await run((store) => store.set(storeKeys.challenge(key('chal', token)), JSON.stringify(record), options.ttlSec * 1000));
    if (binding.factor === 'email' && binding.userId !== null) {
      // After the response: whether a mail goes out must not show in the answer's timing.
      const userId = binding.userId;
      setImmediate(() => {
        this.#deliverEmailCode(binding.account, binding.purpose, userId).catch((error: unknown) =>
          this.deps.logger.error(`[account-shield] could not send a ${binding.purpose} code: ${error instanceof Error ? error.message : String(error)}`),
        );
      });
    }
    return token;
  }

  /**
   * An account's email code for a purpose is shared by the challenges issued while it lives:
   * however often strangers trigger step-up, the owner gets at most one mail per code lifetime,
   * and the newest mail always holds the code that works.
   */
  async #deliverEmailCode(account: string, purpose: string, userId: string): Promise<void> {
    const { run, key, now, emailCode, sendCode, logger } = this.deps;
    const codeKey = storeKeys.emailCode(account, purpose);
    const current = parseCode((await run((s) => s.read({ counters: [], keys: [codeKey] }))).values[0]);
    if (current && current.e > now()) return;
    if (!sendCode) {
      if (!this.#warnedNoSender) {
        this.#warnedNoSender = true;
        logger.error("[account-shield NO_CODE_SENDER] An account's second factor is 'email' but no sendCode option is set: it cannot pass step-up. Pass createShield({ sendCode }).");
      }
      return;
    }
    const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
    const stored: StoredCode = { h: key('code', code), e: now() + emailCode.ttlSec * 1000 };
    await run((s) => s.set(codeKey, JSON.stringify(stored), emailCode.ttlSec * 1000));
    await sendCode(userId, code, { purpose, expiresInSec: emailCode.ttlSec });
  }

  /**
   * Check a token and a code; on success consume the challenge. `expect` restricts which
   * challenges this route accepts; `checkCode` is the app's check for TOTP accounts.
   */
  async verify(
    token: unknown,
    code: string,
    expect: { device: string | null; purpose: string; account?: string; source?: string },
    checkCode: CodeCheck,
  ): Promise<ChallengeOutcome> {
    const { run, key, now, options } = this.deps;
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return { ok: false, failure: 'unknown' };
    const id = key('chal', token);
    const challengeKey = storeKeys.challenge(id);
    const raw = await run(async (store) => (await store.read({ counters: [], keys: [challengeKey] })).values[0]);
    const record = raw === undefined ? undefined : parseRecord(raw);
    if (!record) return { ok: false, failure: 'unknown' };
    // Opened whatever it holds, for the same reason: a challenge without a user opens the empty
    // id (one stored before every challenge was sealed holds null, and opens a sealed empty id).
    const opened = this.#seal.open(record.u ?? this.#sealedNoUser);
    const userId = opened === undefined || opened === NO_USER ? null : opened;
    const binding: ChallengeBinding = {
      account: record.a,
      device: record.d,
      userId,
      purpose: record.p,
      passwordOk: record.ok,
      factor: record.f,
    };
    if (record.e <= now()) {
      await run((store) => store.delete(challengeKey));
      return { ok: false, failure: 'expired', binding };
    }
    // Every presentation counts, right or wrong, so guessing a 6-digit code is hopeless. The
    // record outlives its last allowed attempt so the next one is told "too many" (429).
    const attempts = await run((store) => store.increment(storeKeys.challengeAttempts(id), options.ttlSec * 1000));
    if (attempts > options.maxAttempts) {
      await run((store) => store.delete(challengeKey));
      return { ok: false, failure: 'too-many-attempts', binding };
    }
    if (record.p !== expect.purpose || (expect.account !== undefined && record.a !== expect.account)) {
      return { ok: false, failure: 'wrong-purpose', binding };
    }
    if (record.d !== expect.device) return { ok: false, failure: 'wrong-device', binding };

    // Reserve one guess from a budget before checking, atomically: parallel guesses cannot all
    // slip under the cap. Live challenges (after a right password) draw on the account's budget;
    // the others on one per account and source — in the same single operation, so strangers
    // without the password never spend the owner's budget (nor the owner's typo path, from
    // elsewhere), and no limit tells the two apart.
    const live = record.ok && userId !== null;
    const budget = this.#budget(record.a, live, expect.source);
    // The email code is read alongside, always: one round trip for both on a remote store.
    const [[reserved], storedCode] = await Promise.all([
      run((store) => store.add([{ spec: budget.spec, key: budget.key, points: 1 }])),
      run(async (store) => (await store.read({ counters: [], keys: [storeKeys.emailCode(record.a, record.p)] })).values[0]),
    ]);
    const exhausted = (reserved?.consumed ?? 0) > this.deps.secondFactor.limit;

    // Both checks always run: the app's (TOTP) and the shield's own (email code).
    const appSaysRight = await checkCode(userId ?? DECOY_USER_ID);
    const emailSaysRight = this.#matchesEmailCode(code, parseCode(storedCode));
    const right = (record.f === 'email' ? emailSaysRight : appSaysRight) && userId !== null && !exhausted;
    if (!right) return { ok: false, failure: 'wrong-code', binding, liveWrongCodes: live ? (reserved?.consumed ?? 0) : undefined };

    // Only one concurrent presentation of a right code can take the record.
    if ((await run((store) => store.take(challengeKey))) === undefined) return { ok: false, failure: 'replayed', binding };
    await run((store) => store.add([{ spec: budget.spec, key: budget.key, points: -1 }]));
    if (record.f === 'email') await run((store) => store.delete(storeKeys.emailCode(record.a, record.p)));
    return record.ok ? { ok: true, binding } : { ok: false, failure: 'wrong-password', binding };
  }

  #budget(account: string, live: boolean, source = ''): CounterRef {
    return live ? { spec: this.deps.specs.live, key: `{${account}}` } : { spec: this.deps.specs.doomed, key: `{${account}}:${source}` };
  }

  #matchesEmailCode(code: string, stored: StoredCode | undefined): boolean {
    const given = Buffer.from(this.deps.key('code', code));
    const expected = Buffer.from(stored && stored.e > this.deps.now() ? stored.h : NO_CODE);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** Compared against when an account has no live code, so the comparison always runs. */
const NO_CODE = randomBytes(16).toString('base64url').slice(0, 22);

function parseRecord(raw: string): StoredChallenge | undefined {
  try {
    const value = JSON.parse(raw) as StoredChallenge;
    return typeof value === 'object' && value !== null && typeof value.a === 'string' && typeof value.e === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

function parseCode(raw: string | undefined): StoredCode | undefined {
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as StoredCode;
    return typeof value?.h === 'string' && typeof value?.e === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}
