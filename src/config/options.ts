import type { Decision } from '../engine/decision.js';
import type { LeakedAddressSource } from '../leaks/source.js';
import type { BreachedPasswordSource } from '../passwords/source.js';
import type { Store } from '../stores/store.js';
import type { Logger } from './logger.js';
import { boolean, custom, fn, type Input, number, object, oneOf, type Output, record, string, union } from './schema.js';

/**
 * Every option of `createShield`, declared once: its check, its default and (through `Input`
 * and `Output`) its type. The README's option table documents these declarations.
 */

/**
 * rate-limiter-flexible expires keys with timers, which Node caps at 2^31 ms (~24.8 days): a
 * longer window would silently expire at once.
 */
export const MAX_WINDOW_SEC = 24 * 86_400;

const count = () => number({ integer: true, positive: true });
const windowSec = () => number({ integer: true, positive: true, max: MAX_WINDOW_SEC });
const points = () => number();

/** One velocity family: reaching `limit` within `windowSec` adds `points` (half at half-way). */
const rule = (limit: number, window: number, score: number) =>
  object({ limit: count().default(limit), windowSec: windowSec().default(window), points: points().default(score) });

/** Challenging must start below blocking. */
const thresholds = (challenge: number, block: number) =>
  object({
    /** Score at or above which step-up 2FA is required. */
    challenge: points().default(challenge),
    /** Score at or above which the source is refused with 429. */
    block: points().default(block),
  }).refine((t) =>
    t.challenge < t.block
      ? undefined
      : { problem: `%.challenge (${t.challenge}) must be below %.block (${t.block}).`, fix: 'Lower %.challenge or raise %.block.' },
  );

const lockDuration = { hours: number({ positive: true, max: 8784 }).required(), riskyHours: number({ positive: true, max: 8784 }) };

const isObject = (value: unknown) => typeof value === 'object' && value !== null;

export const shieldShape = {
  /** HMAC key for every identifier (≥ 32 characters). Required when NODE_ENV=production. */
  secret: string(),
  /** State backend. Default: an embedded MemoryStore. */
  store: custom<Store>('a Store (MemoryStore, RedisStore)', (v) => isObject(v) && typeof (v as Store).read === 'function'),
  /** Known-leaked addresses: a source, a list of addresses, or a path (plain list or corpus). */
  leakedAddresses: custom<LeakedAddressSource | readonly string[] | string>(
    'a path, an array of addresses or a LeakedAddressSource',
    (v) => typeof v === 'string' || Array.isArray(v) || (isObject(v) && typeof (v as LeakedAddressSource).has === 'function'),
  ),
  /** Breached-password check (local corpus or k-anonymity range client). */
  breachedPasswords: custom<BreachedPasswordSource>('a BreachedPasswordSource', (v) => isObject(v) && typeof (v as BreachedPasswordSource).isBreached === 'function'),
  /** The Express app, so `trust proxy` can be checked at start-up. */
  app: custom<{ get(setting: string): unknown }>('the Express app', (v) => (isObject(v) || typeof v === 'function') && typeof (v as { get?: unknown }).get === 'function'),
  /** Decide and report, never enforce (for every route unless a route overrides). */
  monitor: boolean().default(false),
  /**
   * `strict` (default): a device that has not passed a second factor for an account is always
   * stepped up, whatever the score. `adaptive`: new devices are risk-scored and may pass on the
   * password alone when nothing looks wrong.
   */
  posture: oneOf(['strict', 'adaptive'] as const).default('strict'),
  /**
   * Delivers a one-time code to an account whose second factor is `email` (the app's mailer).
   * Called after the response; the shield mints, stores (hashed) and checks the code.
   */
  sendCode: fn<(userId: string, code: string, delivery: CodeDelivery) => void | Promise<void>>(),
  /** One-time codes the shield mints for accounts whose second factor is email. */
  emailCode: object({
    /** How long a code lives; challenges issued meanwhile share it (no new email each time). */
    ttlSec: count().default(600),
  }),
  thresholds: thresholds(50, 100),
  points: object({
    leakedAddress: points().default(30),
    /** The submitted password (right or wrong) is a common or breached one. */
    listedPassword: points().default(25),
    newDevice: points().default(25),
    knownDevice: points().default(-30),
    weakPassword: points().default(15),
    breachedPassword: points().default(30),
    recentCredentialChange: points().default(30),
  }),
  velocity: object({
    /** Failed logins from one IP. A source: may block. */
    ip: rule(20, 900, 100),
    /** Failed logins from one subnet (/24 IPv4, /64 IPv6). A source: may block. */
    subnet: rule(60, 900, 100),
    /**
     * Failed logins from one IPv6 /48 (a site: one customer of a hosting provider can rotate
     * through 65,536 /64s). A source: may block. IPv4 has no wider tier: a /16 is shared by too
     * many unrelated people.
     */
    site: rule(120, 900, 100),
    /**
     * Attempts from one IP whose submitted password is a common or breached one, right or wrong:
     * "this address keeps trying passwords from a list". A source: may block.
     */
    listedPasswords: rule(10, 3600, 100),
    /** Failed logins for one account from one IP. A source: may block. */
    ipAccount: rule(5, 900, 100),
    /** Distinct accounts with failed logins from one IP. A source: may block. */
    accountsPerIp: rule(10, 3600, 100),
    /** Failed logins for one account from anywhere. A victim: capped below block by default. */
    account: rule(10, 3600, 50),
  }),
  wave: object({
    /** Unit of the global counters (one bucket). */
    windowSec: windowSec().default(60),
    /** Evidence (failures from unknown devices, attempts on accounts that do not exist) in one bucket before a wave can be declared. */
    minFailures: count().default(30),
    /**
     * A bucket holding at least `surge` times the learnt baseline of evidence per bucket is a
     * wave, whatever the successful traffic around it: successes cannot dilute it.
     */
    surge: number({ positive: true }).default(3),
    /**
     * How fast the baseline may rise per bucket once warmed up (fraction, 0.001 = 0.1 %): it
     * falls quickly but rises slowly (at most ~4× a day), so an attacker ramping up cannot
     * teach it their traffic quickly.
     */
    baselineRise: number({ positive: true }).default(0.001),
    /** Points added to unknown devices while a wave runs. */
    points: points().default(30),
  }),
  challenge: object({ ttlSec: count().default(300), maxAttempts: count().default(5) }),
  /**
   * Wrong second-factor codes per account on challenges that followed a right password (only
   * those can open a session), across all its challenges and sources. Past the limit, codes on
   * such challenges are no longer accepted until the window ends, and the app is told through
   * the `second-factor.guessing` event. Strangers without the password never count here.
   * 30 a day caps guessing a TOTP code (3 valid codes of 10^6 with one step of drift either
   * side) at 9 × 10^-5 per account per day; an email code (1 valid of 10^6) at 3 × 10^-5.
   */
  secondFactor: object({ limit: count().default(30), windowSec: windowSec().default(86_400) }),
  device: object({
    cookieName: string().default('as_dev'),
    /** Cookie lifetime. */
    maxAgeDays: number({ positive: true }).default(365),
    /** How long an (account, device) pair stays known after its last login. */
    knownForDays: number({ positive: true }).default(180),
    /** `auto` follows `req.secure`. */
    secure: union(boolean(), oneOf(['auto'] as const)).default('auto'),
  }),
  password: object({
    /** zxcvbn sees at most this many characters: its cost is superlinear in length. */
    maxScoredLength: count().default(20),
    /** New passwords scoring below this are refused (0–4). */
    minScore: oneOf([0, 1, 2, 3, 4] as const).default(3),
    /** Logins whose password scored below this raise the account's future risk. */
    weakBelow: number().default(2),
    /** How long per-account password flags are remembered. */
    rememberDays: number({ positive: true }).default(30),
  }),
  /** Withdrawal-lock durations per change kind. */
  locks: object({
    /**
     * How long a change kind locks withdrawals; `riskyHours` when the change needed step-up.
     * Add your own kinds (e.g. `withdrawal-address`) here. Common exchange practice: 24 h after
     * password, 2FA or withdraw-capable API-key changes, 6 h after an email or phone change. A
     * change that itself needed step-up is more likely an attacker's, so it locks for longer:
     * the owner gets a second day to read the notification and react.
     */
    durations: record(lockDuration, {
      password: { hours: 24, riskyHours: 48 },
      'password-reset': { hours: 24, riskyHours: 48 },
      '2fa-reset': { hours: 24, riskyHours: 48 },
      email: { hours: 6, riskyHours: 24 },
      phone: { hours: 6, riskyHours: 24 },
      'api-key': { hours: 24, riskyHours: 48 },
    }),
    /** Reasons kept per lock (newest last). */
    maxReasons: count().default(20),
  }),
  /**
   * Scoring of credential changes (password, email, 2FA reset, API keys, ...). They challenge
   * at a lower score than logins: a new device (25) alone asks for a second factor, a known
   * device (-30) with a fresh session does not, a known device on a session older than an hour
   * (-30 + 55) does (OWASP: re-authenticate before changing credentials).
   */
  credentialChange: object({
    thresholds: thresholds(25, 100),
    /** A session older than this changing credentials adds `staleSessionPoints`. */
    maxSessionAgeSec: count().default(3600),
    staleSessionPoints: points().default(55),
  }),
  /** When the store fails, login decisions fall back to in-process limits (default true). */
  failOpen: boolean().default(true),
  /** Called with every decision (also emitted as the `decision` event). */
  onDecision: fn<(decision: Decision) => void>(),
  logger: custom<Logger>('a logger with warn() and error()', (v) => isObject(v) && typeof (v as Logger).warn === 'function' && typeof (v as Logger).error === 'function'),
  /** Clock in epoch ms, injectable for tests. */
  now: fn<() => number>().default(Date.now),
};

/** Why the shield wants a code delivered. */
export interface CodeDelivery {
  /** `login` or the credential-change kind the code confirms. */
  readonly purpose: string;
  /** Seconds the code stays valid. */
  readonly expiresInSec: number;
}

/** Options of `createShield`. */
export type ShieldOptions = Input<typeof shieldShape>;
/** The options with every default filled in. */
export type ShieldSettings = Output<typeof shieldShape>;

export type Posture = ShieldSettings['posture'];
export type Thresholds = ShieldSettings['thresholds'];
export type PointsOptions = ShieldSettings['points'];
export type VelocityOptions = ShieldSettings['velocity'];
export type VelocityRule = VelocityOptions['ip'];
export type WaveOptions = ShieldSettings['wave'];
export type ChallengeOptions = ShieldSettings['challenge'];
export type SecondFactorOptions = ShieldSettings['secondFactor'];
export type EmailCodeOptions = ShieldSettings['emailCode'];
export type DeviceOptions = ShieldSettings['device'];
export type PasswordOptions = ShieldSettings['password'];
export type LockOptions = ShieldSettings['locks'];
export type LockDuration = LockOptions['durations'][string];
export type CredentialChangeOptions = ShieldSettings['credentialChange'];
