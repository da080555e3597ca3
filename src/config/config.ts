import { randomBytes } from 'node:crypto';
import { ShieldConfigError } from '../errors/shield-error.js';
import type { LeakedAddressSource } from '../leaks/source.js';
import type { BreachedPasswordSource } from '../passwords/source.js';
import type { Store } from '../stores/store.js';
import type { Decision } from '../engine/decision.js';
import { consoleLogger, type Logger } from './logger.js';
import { type Schema, validateOptions } from './schema.js';

/** One velocity family: reaching `limit` within `windowSec` adds `points` (half at half-way). */
export interface VelocityRule {
  limit: number;
  windowSec: number;
  points: number;
}

export interface VelocityOptions {
  /** Failed logins from one IP. A source: may block. */
  ip: VelocityRule;
  /** Failed logins from one subnet (/24 IPv4, /64 IPv6). A source: may block. */
  subnet: VelocityRule;
  /**
   * Failed logins from one IPv6 /48 (a site: one customer of a hosting provider can rotate
   * through 65,536 /64s). A source: may block. IPv4 has no wider tier: a /16 is shared by too
   * many unrelated people.
   */
  site: VelocityRule;
  /**
   * Attempts from one IP whose submitted password is a common or breached one, right or wrong:
   * "this address keeps trying passwords from a list". A source: may block.
   */
  listedPasswords: VelocityRule;
  /** Failed logins for one account from one IP. A source: may block. */
  ipAccount: VelocityRule;
  /** Distinct accounts with failed logins from one IP. A source: may block. */
  accountsPerIp: VelocityRule;
  /** Failed logins for one account from anywhere. A victim: capped below block by default. */
  account: VelocityRule;
}

export interface WaveOptions {
  /** Unit of the global counters (one bucket). */
  windowSec: number;
  /** Evidence (failures from unknown devices, attempts on accounts that do not exist) in one bucket before a wave can be declared. */
  minFailures: number;
  /**
   * A bucket holding at least `surge` times the learnt baseline of evidence per bucket is a
   * wave, whatever the successful traffic around it: successes cannot dilute it.
   */
  surge: number;
  /**
   * How fast the baseline may rise per bucket once warmed up (fraction, 0.001 = 0.1 %): it falls quickly but
   * rises slowly (0.1 % a bucket: at most ~4× a day), so an attacker ramping up cannot teach it their traffic quickly.
   */
  baselineRise: number;
  /** Points added to unknown devices while a wave runs. */
  points: number;
}

export interface PointsOptions {
  leakedAddress: number;
  /** The submitted password (right or wrong) is a common or breached one. */
  listedPassword: number;
  newDevice: number;
  knownDevice: number;
  weakPassword: number;
  breachedPassword: number;
  recentCredentialChange: number;
}

export interface Thresholds {
  /** Score at or above which step-up 2FA is required. */
  challenge: number;
  /** Score at or above which the source is refused with 429. */
  block: number;
}

export interface ChallengeOptions {
  ttlSec: number;
  maxAttempts: number;
}

export interface DeviceOptions {
  cookieName: string;
  /** Cookie lifetime. */
  maxAgeDays: number;
  /** How long an (account, device) pair stays known after its last login. */
  knownForDays: number;
  /** `auto` follows `req.secure`. */
  secure: boolean | 'auto';
}

export interface PasswordOptions {
  /** zxcvbn sees at most this many characters: its cost is superlinear in length. */
  maxScoredLength: number;
  /** New passwords scoring below this are refused (0–4). */
  minScore: number;
  /** Logins whose password scored below this raise the account's future risk. */
  weakBelow: number;
  /** How long per-account password flags are remembered. */
  rememberDays: number;
}

/** How long a change kind locks withdrawals; `riskyHours` when the change needed step-up. */
export interface LockDuration {
  hours: number;
  riskyHours?: number;
}

export interface LockOptions {
  /** Per change kind. Add your own kinds (e.g. `withdrawal-address`) here. */
  durations: Record<string, LockDuration>;
  /** Reasons kept per lock (newest last). */
  maxReasons: number;
}

export interface CredentialChangeOptions {
  thresholds: Thresholds;
  /** A session older than this changing credentials adds `staleSessionPoints`. */
  maxSessionAgeSec: number;
  staleSessionPoints: number;
}

/**
 * Wrong second-factor codes per account on challenges that followed a right password (only
 * those can open a session), across all its challenges and sources. Past the limit, codes on
 * such challenges are no longer accepted until the window ends, and the app is told through
 * the `second-factor.guessing` event. Strangers without the password never count here.
 */
export interface SecondFactorOptions {
  limit: number;
  windowSec: number;
}

/** One-time codes the shield mints for accounts whose second factor is email (see `sendCode`). */
export interface EmailCodeOptions {
  /** How long a code lives; challenges issued meanwhile share it (no new email each time). */
  ttlSec: number;
}

/** Why the shield wants a code delivered. */
export interface CodeDelivery {
  /** `login` or the credential-change kind the code confirms. */
  readonly purpose: string;
  /** Seconds the code stays valid. */
  readonly expiresInSec: number;
}

/**
 * `strict` (default): a device that has not passed a second factor for an account is always
 * stepped up, whatever the score. `adaptive`: new devices are risk-scored and may pass on the
 * password alone when nothing looks wrong.
 */
export type Posture = 'strict' | 'adaptive';

export interface ShieldOptions {
  /** HMAC key for every identifier (≥ 32 characters). Required when NODE_ENV=production. */
  secret?: string;
  /** State backend. Default: an embedded MemoryStore. */
  store?: Store;
  /** Known-leaked addresses: a source, a list of addresses, or a path (plain list or corpus). */
  leakedAddresses?: LeakedAddressSource | readonly string[] | string;
  /** Breached-password check (local corpus or k-anonymity range client). */
  breachedPasswords?: BreachedPasswordSource;
  /** The Express app, so `trust proxy` can be checked at start-up. */
  app?: { get(setting: string): unknown };
  /** Decide and report, never enforce (for every route unless a route overrides). */
  monitor?: boolean;
  /** `strict` (default) or `adaptive`; see `Posture`. */
  posture?: Posture;
  /**
   * Delivers a one-time code to an account whose second factor is `email` (the app's mailer).
   * Called after the response; the shield mints, stores (hashed) and checks the code.
   */
  sendCode?: (userId: string, code: string, delivery: CodeDelivery) => void | Promise<void>;
  emailCode?: Partial<EmailCodeOptions>;
  thresholds?: Partial<Thresholds>;
  points?: Partial<PointsOptions>;
  velocity?: { [K in keyof VelocityOptions]?: Partial<VelocityRule> };
  wave?: Partial<WaveOptions>;
  challenge?: Partial<ChallengeOptions>;
  secondFactor?: Partial<SecondFactorOptions>;
  device?: Partial<DeviceOptions>;
  password?: Partial<PasswordOptions>;
  /** Withdrawal-lock durations per change kind. */
  locks?: { durations?: Record<string, LockDuration>; maxReasons?: number };
  /** Scoring of credential changes (password, email, 2FA reset, API keys, ...). */
  credentialChange?: { thresholds?: Partial<Thresholds>; maxSessionAgeSec?: number; staleSessionPoints?: number };
  /** When the store fails, login decisions fall back to in-process limits (default true). */
  failOpen?: boolean;
  /** Called with every decision (also emitted as the `decision` event). */
  onDecision?: (decision: Decision) => void;
  logger?: Logger;
  /** Clock in epoch ms, injectable for tests. */
  now?: () => number;
}

export interface ResolvedConfig {
  secret: string;
  secretGenerated: boolean;
  monitor: boolean;
  thresholds: Thresholds;
  points: PointsOptions;
  velocity: VelocityOptions;
  wave: WaveOptions;
  challenge: ChallengeOptions;
  secondFactor: SecondFactorOptions;
  posture: Posture;
  sendCode: ShieldOptions['sendCode'];
  emailCode: EmailCodeOptions;
  device: DeviceOptions;
  password: PasswordOptions;
  failOpen: boolean;
  locks: LockOptions;
  credentialChange: CredentialChangeOptions;
  logger: Logger;
  now: () => number;
}

export const defaults = {
  thresholds: { challenge: 50, block: 100 },
  points: {
    leakedAddress: 30,
    listedPassword: 25,
    newDevice: 25,
    knownDevice: -30,
    weakPassword: 15,
    breachedPassword: 30,
    recentCredentialChange: 30,
  },
  velocity: {
    ip: { limit: 20, windowSec: 900, points: 100 },
    subnet: { limit: 60, windowSec: 900, points: 100 },
    site: { limit: 120, windowSec: 900, points: 100 },
    listedPasswords: { limit: 10, windowSec: 3600, points: 100 },
    ipAccount: { limit: 5, windowSec: 900, points: 100 },
    accountsPerIp: { limit: 10, windowSec: 3600, points: 100 },
    account: { limit: 10, windowSec: 3600, points: 50 },
  },
  wave: { windowSec: 60, minFailures: 30, surge: 3, baselineRise: 0.001, points: 30 },
  challenge: { ttlSec: 300, maxAttempts: 5 },
  /**
   * Each challenge allows 5 codes, but whoever holds the password can ask for challenge after
   * challenge from any number of sources. 30 wrong codes per account per day on challenges
   * that followed a right password caps guessing a TOTP code (3 valid codes of 10^6 with one
   * step of drift either side) at 30 × 3 / 10^6 = 9 × 10^-5 per account per day (≤ 1 in 10^4);
   * an email code (1 valid of 10^6) at 3 × 10^-5.
   */
  secondFactor: { limit: 30, windowSec: 86_400 },
  emailCode: { ttlSec: 600 },
  device: { cookieName: 'as_dev', maxAgeDays: 365, knownForDays: 180, secure: 'auto' as const },
  password: { maxScoredLength: 20, minScore: 3, weakBelow: 2, rememberDays: 30 },
  /**
   * Common exchange practice: 24 h after password, 2FA or withdraw-capable API-key
   * changes, 6 h after an email or phone change. A change that itself needed step-up is more
   * likely an attacker's, so it locks for longer: the owner gets a second day to read the
   * notification and react.
   */
  lockDurations: {
    password: { hours: 24, riskyHours: 48 },
    'password-reset': { hours: 24, riskyHours: 48 },
    '2fa-reset': { hours: 24, riskyHours: 48 },
    email: { hours: 6, riskyHours: 24 },
    phone: { hours: 6, riskyHours: 24 },
    'api-key': { hours: 24, riskyHours: 48 },
  } as Record<string, LockDuration>,
  /**
   * Credential changes challenge at a lower score than logins: a new device (25) alone asks
   * for a second factor, a known device (-30) with a fresh session does not, a known device
   * on a session older than an hour (-30 + 55) does (OWASP: re-authenticate before changing
   * credentials).
   */
  credentialChange: { thresholds: { challenge: 25, block: 100 }, maxSessionAgeSec: 3600, staleSessionPoints: 55 },
} as const;

const rule: Schema = { limit: 'integer', windowSec: 'integer', points: 'number' };
const thresholdsSchema: Schema = { challenge: 'number', block: 'number' };

export const shieldOptionsSchema: Schema = {
  secret: 'string',
  store: 'object',
  leakedAddresses: 'any',
  breachedPasswords: 'object',
  app: 'any',
  monitor: 'boolean',
  thresholds: { fields: thresholdsSchema },
  points: {
    fields: {
      leakedAddress: 'number',
      listedPassword: 'number',
      newDevice: 'number',
      knownDevice: 'number',
      weakPassword: 'number',
      breachedPassword: 'number',
      recentCredentialChange: 'number',
    },
  },
  velocity: {
    fields: {
      ip: { fields: rule },
      subnet: { fields: rule },
      site: { fields: rule },
      listedPasswords: { fields: rule },
      ipAccount: { fields: rule },
      accountsPerIp: { fields: rule },
      account: { fields: rule },
    },
  },
  wave: {
    fields: {
      windowSec: 'integer',
      minFailures: 'integer',
      surge: 'positive',
      baselineRise: 'positive',
      points: 'number',
    },
  },
  challenge: { fields: { ttlSec: 'integer', maxAttempts: 'integer' } },
  secondFactor: { fields: { limit: 'integer', windowSec: 'integer' } },
  posture: { oneOf: ['strict', 'adaptive'] },
  sendCode: 'function',
  emailCode: { fields: { ttlSec: 'integer' } },
  device: {
    fields: {
      cookieName: 'string',
      maxAgeDays: 'positive',
      knownForDays: 'positive',
      secure: { union: ['boolean', { oneOf: ['auto'] }] },
    },
  },
  password: {
    fields: { maxScoredLength: 'integer', minScore: { oneOf: [0, 1, 2, 3, 4] }, weakBelow: 'number', rememberDays: 'positive' },
  },
  failOpen: 'boolean',
  locks: {
    fields: {
      durations: { fields: {}, open: { fields: { hours: 'positive', riskyHours: 'positive' } } },
      maxReasons: 'integer',
    },
  },
  credentialChange: {
    fields: { thresholds: { fields: thresholdsSchema }, maxSessionAgeSec: 'integer', staleSessionPoints: 'number' },
  },
  onDecision: 'function',
  logger: 'object',
  now: 'function',
};

export const MIN_SECRET_LENGTH = 32;

export function resolveConfig(options: ShieldOptions): ResolvedConfig {
  validateOptions(options, shieldOptionsSchema, 'options');
  const logger = options.logger ?? consoleLogger;
  const { secret, generated } = resolveSecret(options.secret, logger);
  checkTrustProxy(options.app);

  const thresholds = checkThresholds('thresholds', { ...defaults.thresholds, ...options.thresholds });
  const velocity = {} as VelocityOptions;
  for (const name of Object.keys(defaults.velocity) as (keyof VelocityOptions)[]) {
    velocity[name] = { ...defaults.velocity[name], ...options.velocity?.[name] };
  }
  for (const [name, r] of Object.entries(velocity)) checkWindow(`velocity.${name}.windowSec`, r.windowSec);
  const wave = { ...defaults.wave, ...options.wave };
  checkWindow('wave.windowSec', wave.windowSec);
  return {
    secret,
    secretGenerated: generated,
    monitor: options.monitor ?? false,
    thresholds,
    points: { ...defaults.points, ...options.points },
    velocity,
    wave,
    challenge: { ...defaults.challenge, ...options.challenge },
    secondFactor: { ...defaults.secondFactor, ...options.secondFactor },
    posture: options.posture ?? 'strict',
    sendCode: options.sendCode,
    emailCode: { ...defaults.emailCode, ...options.emailCode },
    device: { ...defaults.device, ...options.device },
    password: { ...defaults.password, ...options.password },
    failOpen: options.failOpen ?? true,
    locks: {
      durations: { ...defaults.lockDurations, ...options.locks?.durations },
      maxReasons: options.locks?.maxReasons ?? 20,
    },
    credentialChange: resolveCredentialChange(options.credentialChange),
    logger,
    now: options.now ?? Date.now,
  };
}

/**
 * rate-limiter-flexible's memory limiter expires keys with setTimeout, which Node caps at
 * 2^31 ms (~24.8 days): a longer window would silently expire at once.
 */
export const MAX_WINDOW_SEC = 24 * 86_400;

function checkWindow(name: string, seconds: number): void {
  if (seconds > MAX_WINDOW_SEC) {
    throw new ShieldConfigError('INVALID_VALUE', `${name} is ${seconds} s.`, `Use at most ${MAX_WINDOW_SEC} s (24 days).`);
  }
}

/** Thresholds as merged for a shield or a route: challenging must start below blocking. */
export function checkThresholds(name: string, thresholds: Thresholds): Thresholds {
  if (!(thresholds.challenge < thresholds.block)) {
    throw new ShieldConfigError(
      'INVALID_VALUE',
      `${name}.challenge (${thresholds.challenge}) must be below ${name}.block (${thresholds.block}).`,
      `Lower ${name}.challenge or raise ${name}.block.`,
    );
  }
  return thresholds;
}

function resolveCredentialChange(options: ShieldOptions['credentialChange']): CredentialChangeOptions {
  const thresholds = checkThresholds('credentialChange.thresholds', {
    ...defaults.credentialChange.thresholds,
    ...options?.thresholds,
  });
  return {
    thresholds,
    maxSessionAgeSec: options?.maxSessionAgeSec ?? defaults.credentialChange.maxSessionAgeSec,
    staleSessionPoints: options?.staleSessionPoints ?? defaults.credentialChange.staleSessionPoints,
  };
}

function resolveSecret(secret: string | undefined, logger: Logger): { secret: string; generated: boolean } {
  if (secret === undefined || secret === '') {
    if (process.env.NODE_ENV === 'production') {
      throw new ShieldConfigError(
        'MISSING_SECRET',
        'No secret is configured and NODE_ENV is production.',
        `Pass options.secret (at least ${MIN_SECRET_LENGTH} random characters, e.g. from SHIELD_SECRET) so identifiers stay stable across restarts and instances.`,
      );
    }
    logger.warn(
      '[account-shield] No secret configured: using a random one. Devices, challenges and counters will not survive a restart or be shared between instances. Set options.secret in production.',
    );
    return { secret: randomBytes(32).toString('base64url'), generated: true };
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ShieldConfigError(
      'WEAK_SECRET',
      `options.secret is ${secret.length} characters long.`,
      `Use at least ${MIN_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 48\`.`,
    );
  }
  return { secret, generated: false };
}

/**
 * `trust proxy = true` makes Express believe the left-most X-Forwarded-For entry, which any
 * client can write: every attacker request would come from a fresh "IP" and velocity limits
 * would count nothing.
 */
export function checkTrustProxy(app: { get(setting: string): unknown } | undefined): void {
  if (!app) return;
  if (app.get('trust proxy') === true) {
    throw new ShieldConfigError(
      'TRUST_PROXY_TRUE',
      "Express 'trust proxy' is true, so clients can choose their own IP through X-Forwarded-For.",
      "Set 'trust proxy' to the number of proxies in front of the app (e.g. 1) or their addresses (e.g. 'loopback' or '10.0.0.0/8').",
    );
  }
}
