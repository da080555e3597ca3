import { randomBytes } from 'node:crypto';
import { ShieldConfigError } from '../errors/shield-error.js';
import { consoleLogger, type Logger } from './logger.js';
import { type ShieldOptions, type ShieldSettings, shieldShape, type Thresholds } from './options.js';
import { resolveShape } from './schema.js';

export type {
  ChallengeOptions,
  CodeDelivery,
  CredentialChangeOptions,
  DeviceOptions,
  EmailCodeOptions,
  LockDuration,
  LockOptions,
  PasswordOptions,
  PointsOptions,
  Posture,
  SecondFactorOptions,
  ShieldOptions,
  Thresholds,
  VelocityOptions,
  VelocityRule,
  WaveOptions,
} from './options.js';
export { MAX_WINDOW_SEC } from './options.js';

/** What the engine runs with: every option resolved, the secret settled, a logger chosen. */
export interface ResolvedConfig extends Omit<ShieldSettings, 'secret' | 'logger'> {
  secret: string;
  secretGenerated: boolean;
  logger: Logger;
}

/** Every option's default, from the declarations (for tools and benchmarks that follow them). */
export const defaults: Omit<ShieldSettings, 'secret'> = resolveShape(shieldShape, {}, 'options');

export const MIN_SECRET_LENGTH = 32;

/** Check every option, fill in the defaults; throws `ShieldConfigError` with a fix. */
export function resolveConfig(options: ShieldOptions): ResolvedConfig {
  const settings = resolveShape(shieldShape, options, 'options');
  const logger = settings.logger ?? consoleLogger;
  const { secret, generated } = resolveSecret(settings.secret, logger);
  checkTrustProxy(settings.app);
  return { ...settings, secret, secretGenerated: generated, logger };
}

/** Thresholds as merged for a route: challenging must start below blocking. */
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
