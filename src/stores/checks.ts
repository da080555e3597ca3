import { ShieldArgumentError } from '../errors/shield-error.js';
import { StoreConfigError } from './errors.js';
import type { CounterSpec, LockReason } from './store.js';

/**
 * The argument checks every store applies, so every backend refuses the same calls with the
 * same named errors: a caller's mistake (a TTL of 0, half a point) is a ShieldArgumentError; a
 * counter family no store can keep is a StoreConfigError, since families come from the
 * configuration. Nothing here runs per counter on a hot path: stores check a spec once, when
 * they first meet it.
 */

/** A TTL in whole milliseconds; nothing in a store may live forever. */
export function checkTtl(ttlMs: number): number {
  if (Number.isFinite(ttlMs) && ttlMs > 0) return Math.ceil(ttlMs);
  throw new ShieldArgumentError(
    `ttlMs must be a positive number of milliseconds, got ${ttlMs}`,
    'pass how long the value may live, above 0: nothing in a store lives forever',
  );
}

/** Points added to a counter: whole numbers (Redis counts in integers), negative to take back. */
export function checkPoints(points: number): number {
  if (Number.isInteger(points)) return points;
  throw new ShieldArgumentError(`points must be a whole number, got ${points}`, 'add or take back whole points only');
}

/** Store keys are non-empty strings (already HMAC-keyed by the shield). */
export function checkKey(key: string): string {
  if (typeof key === 'string' && key.length > 0) return key;
  throw new ShieldArgumentError(`store keys must be non-empty strings, got ${JSON.stringify(key)}`, 'pass the keyed id the shield built for this entry');
}

/**
 * A counter family: a name without braces (a brace would become the Cluster hash tag of every
 * counter in it) and a window that ends (rate-limiter-flexible reads 0 as "never expires").
 * `wholeSeconds`: the backend counts windows in whole seconds.
 */
export function checkCounterSpec(spec: CounterSpec, wholeSeconds: boolean): void {
  if (typeof spec.name !== 'string' || spec.name.length === 0 || /[{}]/.test(spec.name)) {
    throw new StoreConfigError(
      'COUNTER_SPEC_INVALID',
      `counter family name ${JSON.stringify(spec.name)} must be a non-empty string without { or }`,
      'name the family with letters, digits and underscores',
    );
  }
  const window = spec.durationSec;
  if (!(Number.isFinite(window) && (wholeSeconds ? Number.isInteger(window) && window >= 1 : window > 0))) {
    throw new StoreConfigError(
      'COUNTER_SPEC_INVALID',
      `counter family ${spec.name}: durationSec must be ${wholeSeconds ? 'a whole number of seconds, at least 1' : 'a positive number of seconds'}, got ${window}`,
      `give the ${spec.name} window a length in ${wholeSeconds ? 'whole ' : ''}seconds above 0: a counter must expire with its window`,
    );
  }
  if (!(Number.isFinite(spec.points) && spec.points >= 0)) {
    throw new StoreConfigError(
      'COUNTER_SPEC_INVALID',
      `counter family ${spec.name}: points (its limit) must be a number of at least 0, got ${spec.points}`,
      `give the ${spec.name} family a limit of 0 or more`,
    );
  }
}

/** The arguments of `extendLock`: epoch milliseconds and a bound on kept reasons. */
export function checkLockArguments(reason: LockReason, now: number, maxReasons: number): void {
  if (!Number.isFinite(reason.until) || !Number.isFinite(reason.at)) {
    throw new ShieldArgumentError(
      `reason.at and reason.until must be finite epoch milliseconds, got ${reason.at} and ${reason.until}`,
      'pass Date.now()-style timestamps for when the cause happened and until when it locks',
    );
  }
  if (!Number.isFinite(now)) throw new ShieldArgumentError(`now must be finite epoch milliseconds, got ${now}`, "pass the caller's clock, e.g. Date.now()");
  if (!(Number.isInteger(maxReasons) && maxReasons >= 1)) {
    throw new ShieldArgumentError(`maxReasons must be a whole number of at least 1, got ${maxReasons}`, 'keep at least the newest reason');
  }
}
