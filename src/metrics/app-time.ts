/**
 * How much of a guard's time was the app's own: its `authenticate` (a password hash, tens of
 * milliseconds), `getUser`, `verifySecondFactor` and the rest. A decision's `elapsedMs` runs
 * from the guard's entry to its decision and includes them; the decision-latency metric wants
 * the shield's own share. Every function-valued route option is the app's code, so each is
 * timed, and the time is added to a per-request tally carried by AsyncLocalStorage (the
 * decision event has no request to hang it on).
 *
 * The tally only runs once `shieldMetrics` asked for it: on Node 20 an active
 * AsyncLocalStorage costs every promise a hook, which an app without metrics should not pay.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHandler } from 'express';
import type { Shield } from '../shield.js';

interface Tally {
  appMs: number;
}

const tallies = new AsyncLocalStorage<Tally>();
/** Shields whose metrics asked for the split. */
const measuring = new WeakSet<Shield>();

/** Milliseconds the app's callbacks took so far in the current guarded request, if tallied. */
export function appCallbackMs(): number | undefined {
  return tallies.getStore()?.appMs;
}

/** Start tallying app time on `shield`'s routes (idempotent). */
export function measureAppTime(shield: Shield): void {
  measuring.add(shield);
}

/** Wrap `shield`'s route factories so their callbacks and guards take part in the tally. */
export function timeAppCallbacks(shield: Shield): Shield {
  const { login, stepUp, credentialChange, withdrawals } = shield;
  const tallied = (guard: RequestHandler): RequestHandler =>
    function talliedGuard(req, res, next) {
      if (!measuring.has(shield)) return guard(req, res, next);
      return tallies.run({ appMs: 0 }, () => guard(req, res, next));
    };
  return Object.assign(shield, {
    login: (options: Parameters<Shield['login']>[0]) => tallied(login(timedCallbacks(options))),
    stepUp: (options: Parameters<Shield['stepUp']>[0]) => tallied(stepUp(timedCallbacks(options))),
    credentialChange: (kind: string, options: Parameters<Shield['credentialChange']>[1]) =>
      tallied(credentialChange(kind, timedCallbacks(options))),
    withdrawals: (options: Parameters<Shield['withdrawals']>[0]) => tallied(withdrawals(timedCallbacks(options))),
  });
}

/** A copy of `options` whose functions add their running time to the current tally. */
function timedCallbacks<O>(options: O): O {
  // Leave anything odd to the route factory, which names the mistake.
  if (typeof options !== 'object' || options === null) return options;
  const copy = { ...options } as Record<string, unknown>;
  for (const [name, value] of Object.entries(copy)) {
    if (typeof value === 'function') copy[name] = timed(value as (...args: unknown[]) => unknown);
  }
  return copy as O;
}

function timed(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function timedCallback(this: unknown, ...args: unknown[]) {
    const tally = tallies.getStore();
    if (tally === undefined) return fn.apply(this, args);
    const started = performance.now();
    const done = () => {
      tally.appMs += performance.now() - started;
    };
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (error) {
      done();
      throw error;
    }
    if (isThenable(result)) {
      // Attached before the guard awaits the same promise, so the tally is complete when the
      // guard resumes. The caller still gets the original promise and handles its rejection.
      result.then(done, done);
    } else {
      done();
    }
    return result;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
