import { randomBytes } from 'node:crypto';
import { ShieldConfigError } from './errors.js';
import type { LeakedAddressSource } from './leaks/source.js';
import type { BreachedPasswordSource } from './passwords/source.js';
import type { Store } from './stores/store.js';
import type { Decision, Logger } from './types.js';
import { type Schema, validateOptions } from './validate-options.js';

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
  /** Failed logins for one account from one IP. A source: may block. */
  ipAccount: VelocityRule;
  /** Distinct accounts with failed logins from one IP. A source: may block. */
  accountsPerIp: VelocityRule;
  /** Failed logins for one account from anywhere. A victim: capped below block by default. */
  account: VelocityRule;
}

export interface WaveOptions {
  /** Sliding unit of the global failure counter. */
  windowSec: number;
  /** Failures in the window before a wave can be declared. */
  minFailures: number;
  /** Failures / attempts in the window at or above which a wave is declared. */
  failureRatio: number;
  /** Points added to unknown devices while a wave runs. */
  points: number;
}

export interface PointsOptions {
  leakedAddress: number;
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

/** Wrong second-factor codes per account, across all its challenges, before step-up answers 429. */
export interface SecondFactorOptions {
  limit: number;
  windowSec: number;
}

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
    newDevice: 25,
    knownDevice: -30,
    weakPassword: 15,
    breachedPassword: 30,
    recentCredentialChange: 30,
  },
  velocity: {
    ip: { limit: 20, windowSec: 900, points: 100 },
    subnet: { limit: 60, windowSec: 900, points: 100 },
    ipAccount: { limit: 5, windowSec: 900, points: 100 },
    accountsPerIp: { limit: 10, windowSec: 3600, points: 100 },
    account: { limit: 10, windowSec: 3600, points: 50 },
  },
  wave: { windowSec: 60, minFailures: 30, failureRatio: 0.3, points: 30 },
  challenge: { ttlSec: 300, maxAttempts: 5 },
  /**
   * Each challenge allows 5 codes, but whoever holds the password (or a session) can ask for
   * challenge after challenge; 10 wrong codes per account per hour caps TOTP guessing at a
   * 1-in-100,000 chance per hour.
   */
  secondFactor: { limit: 10, windowSec: 3600 },
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
      ipAccount: { fields: rule },
      accountsPerIp: { fields: rule },
      account: { fields: rule },
    },
  },
  wave: { fields: { windowSec: 'integer', minFailures: 'integer', failureRatio: 'positive', points: 'number' } },
  challenge: { fields: { ttlSec: 'integer', maxAttempts: 'integer' } },
  secondFactor: { fields: { limit: 'integer', windowSec: 'integer' } },
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
  if (wave.failureRatio > 1) {
    throw new ShieldConfigError('INVALID_VALUE', 'wave.failureRatio must be at most 1.', 'Use a ratio such as 0.3.');
  }
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

export const consoleLogger: Logger = {
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
