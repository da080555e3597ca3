/**
 * What the shield asks about a password: has it appeared in a public breach? Used to refuse
 * a new password on a credential change and as a risk signal at login. Implementations:
 * a local corpus (breached-local.ts) and the k-anonymity range client (range-client.ts).
 */
export interface BreachedPasswordSource {
  /**
   * Resolves `true` when the password is known breached. Sources that depend on a network
   * fail open (resolve `false`) and report through their own `onError`; they do not reject.
   */
  isBreached(password: string): Promise<boolean>;
  /**
   * A synchronous, local answer, for sources that have one (an in-memory corpus). Login
   * attempts are only checked against these: a network lookup on every attacker request would
   * hand the attacker our latency budget.
   */
  has?(password: string): boolean;
}

/**
 * Asks each source in order and stops at the first `true`: put the local corpus first so
 * the network is only asked about passwords it does not already know.
 */
export function anyBreached(...sources: readonly BreachedPasswordSource[]): BreachedPasswordSource {
  const local = sources.filter((s) => typeof s.has === 'function');
  return {
    async isBreached(password) {
      for (const source of sources) if (await source.isBreached(password)) return true;
      return false;
    },
    ...(local.length > 0 ? { has: (password: string) => local.some((s) => s.has?.(password) === true) } : {}),
  };
}
