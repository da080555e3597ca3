import { ShieldConfigError } from '../errors/shield-error.js';
import type { ChangeSettings, CredentialChangeRouteOptions } from '../routes/credential-change/guard.js';
import type { LoginRouteOptions, LoginSettings } from '../routes/login.js';
import { checkThresholds, type ResolvedConfig } from './config.js';
import { type Schema, validateOptions } from './schema.js';

/**
 * What each route guard accepts, checked when the route is mounted: a misspelt route option
 * (`tresholds`) is a start-up error with a fix, not a setting silently ignored.
 */
const thresholds: Schema = { challenge: 'number', block: 'number' };

export const routeOptionSchemas = {
  login: {
    authenticate: 'function',
    lookupAccount: 'function',
    fields: { fields: { email: 'string', password: 'string' } },
    thresholds: { fields: thresholds },
    monitor: 'boolean',
    failOpen: 'boolean',
    name: 'string',
  },
  stepUp: {
    verifySecondFactor: 'function',
    fields: { fields: { challenge: 'string', code: 'string' } },
    name: 'string',
  },
  credentialChange: {
    getUser: 'function',
    verifySecondFactor: 'function',
    verifyCurrentPassword: 'function',
    sessionId: 'function',
    newPasswordField: 'string',
    currentPasswordField: 'string',
    newEmailField: 'string',
    newEmail: 'function',
    onChanged: 'function',
    lockWithdrawals: { union: ['boolean', 'function'] },
    thresholds: { fields: thresholds },
    monitor: 'boolean',
    name: 'string',
  },
  withdrawals: {
    getUser: 'function',
    name: 'string',
  },
} satisfies Record<string, Schema>;

export type RouteName = keyof typeof routeOptionSchemas;

/** Validate a route's options and its required callbacks; throws `ShieldConfigError`. */
export function checkRouteOptions(route: RouteName, options: unknown, required: readonly string[]): void {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new ShieldConfigError(
      'MISSING_CALLBACK',
      `shield.${route}() needs an options object.`,
      `Pass { ${required.map((name) => `${name}: async (...) => ...`).join(', ')} }.`,
    );
  }
  validateOptions(options, routeOptionSchemas[route], `shield.${route}() options`);
  for (const name of required) {
    if (typeof (options as Record<string, unknown>)[name] !== 'function') {
      throw new ShieldConfigError(
        'MISSING_CALLBACK',
        `shield.${route}() needs a ${name} callback.`,
        `Pass { ${name}: async (...) => ... } so the shield can use the app's own check.`,
      );
    }
  }
}

/** A login route's settings: its own options over the shield's. */
export function loginSettings(config: ResolvedConfig, options: LoginRouteOptions): LoginSettings {
  return {
    thresholds: checkThresholds('login thresholds', { ...config.thresholds, ...options.thresholds }),
    monitor: options.monitor ?? config.monitor,
    failOpen: options.failOpen ?? config.failOpen,
    emailField: options.fields?.email ?? 'email',
    passwordField: options.fields?.password ?? 'password',
  };
}

/** A credential-change route's settings: its own options over the shield's. */
export function changeSettings(config: ResolvedConfig, kind: string, options: CredentialChangeRouteOptions): ChangeSettings {
  const { maxSessionAgeSec, staleSessionPoints } = config.credentialChange;
  return {
    thresholds: checkThresholds(`${kind} thresholds`, { ...config.credentialChange.thresholds, ...options.thresholds }),
    monitor: options.monitor ?? config.monitor,
    session: { maxSessionAgeSec, staleSessionPoints },
    password: config.password,
    logger: config.logger,
  };
}
