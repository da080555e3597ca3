import type { RequestHandler, Router } from 'express';
import type { ConsoleOptions } from './console/options.js';
import { createConsole } from './console/router.js';
import { resolveConfig, type ShieldOptions } from './config/config.js';
import { ShieldEngine } from './engine/engine.js';
import { errorMessage } from './errors/error-message.js';
import type { ShieldEventMap } from './engine/events.js';
import { timeAppCallbacks } from './metrics/app-time.js';
import { recordKeyId } from './identity/key-id.js';
import { leakedAddressesFromList, loadLeakedAddresses, type LeakedAddressSource } from './leaks/source.js';
import { Locks, type WithdrawalLocks } from './locks/locks.js';
import { credentialChangeGuard } from './routes/credential-change/guard.js';
import { loginGuard } from './routes/login.js';
import { withdrawalGuard } from './routes/withdrawals.js';
import { stepUpGuard } from './routes/step-up.js';
import { jsonErrorHandler } from './http/responses.js';
import {
  type CredentialChangeRouteOptions,
  changeSettings,
  resolveRouteOptions,
  credentialChangeShape,
  type LoginRouteOptions,
  loginSettings,
  loginShape,
  type StepUpRouteOptions,
  stepUpShape,
  type WithdrawalRouteOptions,
  withdrawalsShape,
} from './config/route-options.js';
import { MemoryStore } from './stores/memory.js';

export interface Shield {
  /** Guard a login route. */
  login(options: LoginRouteOptions): RequestHandler;
  /** Guard the route that answers a login's step-up challenge. */
  stepUp(options: StepUpRouteOptions): RequestHandler;
  /**
   * Guard a credential change of `kind` (`password`, `password-reset`, `email`, `phone`,
   * `2fa-reset`, `api-key`, or any kind added to `locks.durations`).
   */
  credentialChange(kind: string, options: CredentialChangeRouteOptions): RequestHandler;
  /** Guard the withdrawal route: 423 while locked, 503 when the lock state is unknown. */
  withdrawals(options: WithdrawalRouteOptions): RequestHandler;
  /** Devices that completed a login for this address (keyed ids, last seen), newest last. */
  knownDevices(email: string): Promise<{ id: string; lastSeen: Date }[]>;
  /** Admin API: read, lock and unlock withdrawals for a user. */
  readonly locks: WithdrawalLocks;
  /**
   * The operator console: a router to mount behind your own admin authentication, e.g.
   * `app.use('/admin', adminAuth, shield.console())`. It shows this process's decisions.
   */
  console(options?: ConsoleOptions): Router;
  /** JSON answers for malformed, oversized or badly encoded bodies (mount after routes). */
  errorHandler(): ReturnType<typeof jsonErrorHandler>;
  on<E extends keyof ShieldEventMap>(event: E, listener: (...args: ShieldEventMap[E]) => void): Shield;
  off<E extends keyof ShieldEventMap>(event: E, listener: (...args: ShieldEventMap[E]) => void): Shield;
  /** Resolves once asynchronous sources (a leak file given by path) are loaded and the key id is recorded. */
  readonly ready: Promise<void>;
  /** Stop timers and watchers; closes the store only if the shield created it. */
  close(): Promise<void>;
}

/** Create a shield. Validates every option now and throws `ShieldConfigError` on mistakes. */
export function createShield(options: ShieldOptions = {}): Shield {
  const config = resolveConfig(options);
  const ownStore = options.store === undefined;
  const store = options.store ?? new MemoryStore({ now: config.now });
  const engine = new ShieldEngine(config, store, options.breachedPasswords);
  if (options.onDecision) engine.on('decision', options.onDecision);

  const locks = new Locks(engine, config.locks);
  const ready = Promise.all([attachLeaks(engine, options.leakedAddresses, config.secret), recordKeyId(store, config.secret, config.logger)]).then(() => undefined);

  const shield: Shield = {
    login: (routeOptions) => {
      const resolved = resolveRouteOptions('login', loginShape, routeOptions);
      return loginGuard(engine, resolved, loginSettings(config, resolved));
    },
    stepUp: (routeOptions) => {
      return stepUpGuard(engine, resolveRouteOptions('stepUp', stepUpShape, routeOptions));
    },
    credentialChange: (kind, routeOptions) => {
      const resolved = resolveRouteOptions('credentialChange', credentialChangeShape, routeOptions);
      return credentialChangeGuard(engine, locks, kind, resolved, changeSettings(config, kind, resolved));
    },
    withdrawals: (routeOptions) => {
      return withdrawalGuard(engine, locks, resolveRouteOptions('withdrawals', withdrawalsShape, routeOptions));
    },
    locks,
    knownDevices: async (email) =>
      (await engine.knownDevices(String(email))).map((d) => ({ id: d.id.slice(0, 8), lastSeen: new Date(d.lastSeen) })),
    console: (consoleOptions) =>
      createConsole(
        { on: shield.on, locks, keyUser: (userId) => engine.userKey(userId), now: config.now, waveWindowSec: config.wave.windowSec },
        consoleOptions,
      ),
    errorHandler: () => jsonErrorHandler(),
    on: (event, listener) => {
      engine.on(event, listener as never);
      return shield;
    },
    off: (event, listener) => {
      engine.off(event, listener as never);
      return shield;
    },
    ready,
    close: async () => {
      await engine.close();
      if (ownStore) await store.close();
    },
  };
  return timeAppCallbacks(shield);
}

function attachLeaks(engine: ShieldEngine, leaks: ShieldOptions['leakedAddresses'], secret: string): Promise<void> {
  if (leaks === undefined) return Promise.resolve();
  if (typeof leaks === 'string') {
    return loadLeakedAddresses(leaks, {
      secret,
      watch: true,
      onError: (error) => engine.config.logger.error(`[account-shield] leak list reload failed: ${errorMessage(error)}`),
    }).then((source) => {
      engine.lists.leaks = source;
    });
  }
  if (Array.isArray(leaks)) {
    engine.lists.leaks = leakedAddressesFromList(leaks as readonly string[], secret);
    return Promise.resolve();
  }
  // Anything else passed the options check as a LeakedAddressSource.
  const source = leaks as LeakedAddressSource;
  engine.lists.leaks = source;
  return Promise.resolve();
}
