import type { PasswordOptions } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import { addressInputs, passwordStrength } from '../signals/password-strength.js';
import type { PasswordFlags } from '../signals/signal.js';
import { storeKeys } from '../stores/key-layout.js';
import type { Store } from '../stores/store.js';
import type { Lists } from './lists.js';

export interface PasswordLearningDeps {
  readonly run: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
  readonly lists: Lists;
  readonly options: PasswordOptions;
  readonly logger: Logger;
}

/**
 * After a password authenticated on the owner's known device, learn its quality for future
 * decisions about the account. Only there: on any other path, the extra work after a right
 * password would be a timing oracle for whoever sent it. At most once per `rememberDays` per
 * account (the caller checks the flags are absent), on a bounded input, after the response.
 */
export function learnPasswordLater(deps: PasswordLearningDeps, account: string, address: string, password: string): void {
  const work = async () => {
    const strength = passwordStrength(password, addressInputs(address), { maxLength: deps.options.maxScoredLength });
    const flags: PasswordFlags = { score: strength.score, breached: await deps.lists.isBreached(password) };
    const ttl = deps.options.rememberDays * 86_400_000;
    await deps.run((s) => s.set(storeKeys.passwordFlags(account), JSON.stringify(flags), ttl));
  };
  // zxcvbn is synchronous, and the login must not wait for it.
  setImmediate(() => {
    work().catch((error: unknown) =>
      deps.logger.warn(`[account-shield] could not record password quality: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
}
