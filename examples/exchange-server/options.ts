import type { ShieldOptions } from 'account-shield';
import type { GuardsFactory } from './guards.js';
import type { SeedUser } from './users.js';

/**
 * Everything the example server can be started with. Mirrors the environment variables of the
 * reference integration contract (see `optionsFromEnv`), so tests and the demo can start the
 * same server in-process without touching `process.env`.
 */
export interface ExchangeOptions {
  /** SHIELD_SECRET. Absent: the shield picks a random one and warns (dev only). */
  secret?: string;
  /**
   * EXAMPLE_USERS: seed users, or a path to / inline text of their JSON list.
   * Absent: the built-in demo users.
   */
  users?: readonly SeedUser[] | string;
  /** LEAKED_ADDRESSES: a path (plain list or built corpus) or the addresses themselves. */
  leakedAddresses?: string | readonly string[];
  /** TRUST_PROXY, already parsed (see `parseTrustProxy`). */
  trustProxy?: boolean | number | string;
  /**
   * What guards the routes. Default: account-shield (`shieldGuards` in shield.ts), built from the
   * options here; other guards may ignore the shield's options.
   */
  guards?: GuardsFactory;
  /**
   * Extra shield options (thresholds, challenge TTL, a store, a clock...). `secret`, `app` and
   * `leakedAddresses` come from the fields above.
   */
  shieldOptions?: Omit<ShieldOptions, 'secret' | 'app' | 'leakedAddresses'>;
  /**
   * scrypt cost (N, a power of two). Default 2^14, Node's own default. Tests and the demo lower
   * it so thousands of simulated logins fit in seconds; the hashes stay real scrypt hashes.
   */
  scryptCost?: number;
  /** Session lifetime in seconds. Default 12 h. */
  sessionTtlSec?: number;
  /** ADMIN_TOKEN: the operator console's password. Absent: a random one (development only). */
  adminToken?: string;
}

/** Thrown for a bad environment value; `main.ts` prints it and exits 2. */
export class ExchangeConfigError extends Error {
  override readonly name = 'ExchangeConfigError';
}

/**
 * Express `trust proxy` from its environment text. Numbers become hop counts and `true`/`false`
 * booleans, exactly as typed: `true` is passed on so the shield refuses it at start-up with its
 * named error, rather than this file silently "fixing" a dangerous setting.
 */
export function parseTrustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  return text;
}

/** SHIELD_POSTURE: unset → the default (`strict`), or `adaptive`. */
export function parsePosture(value: string | undefined): 'strict' | 'adaptive' | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (text === 'strict' || text === 'adaptive') return text;
  throw new ExchangeConfigError(`SHIELD_POSTURE must be unset, strict or adaptive; got ${JSON.stringify(text.slice(0, 40))}.`);
}

/** The options `main.ts` starts the server with. Empty variables count as unset. */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): ExchangeOptions {
  const set = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  return {
    secret: set('SHIELD_SECRET'),
    users: set('EXAMPLE_USERS'),
    leakedAddresses: set('LEAKED_ADDRESSES'),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    adminToken: set('ADMIN_TOKEN'),
    ...(parsePosture(env.SHIELD_POSTURE) ? { shieldOptions: { posture: parsePosture(env.SHIELD_POSTURE) } } : {}),
  };
}

export function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 3000;
  const text = value.trim();
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new ExchangeConfigError(`PORT must be 0–65535; got ${JSON.stringify(text.slice(0, 20))}.`);
  return port;
}
