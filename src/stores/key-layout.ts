/**
 * Store key names. Keys that belong to one account carry its id as a Redis Cluster hash tag so
 * they land in one slot and can be read in one round trip.
 */
export const storeKeys = {
  /** An (account, device) pair that has completed a login. */
  knownDevice: (account: string, device: string) => `dev:{${account}}:${device}`,
  /** Index of an account's known devices (keyed ids and last-seen times), for the security page. */
  deviceIndex: (account: string) => `devs:{${account}}`,
  /** Cached password-quality flags for an account, set after it authenticates. */
  passwordFlags: (account: string) => `pwq:{${account}}`,
  /** A pending step-up challenge, by the hash of its token. */
  challenge: (challenge: string) => `chal:{${challenge}}`,
  challengeAttempts: (challenge: string) => `chal:{${challenge}}:n`,
  /** The live email code of an account for one purpose (its keyed hash, never the code). */
  emailCode: (account: string, purpose: string) => `ecode:{${account}}:${purpose}`,
  /**
   * A device passed the second factor for an account but its password was wrong (the typo
   * path): the next login from that device with the right password needs no second code.
   */
  secondFactorPass: (account: string, device: string) => `sfpass:{${account}}:${device}`,
  /** The wave's learnt baseline (evidence per bucket). */
  waveBaseline: () => 'wave_base',
  /** Set while a wave is declared. */
  waveFlag: () => 'wave',
  /** Marks an account whose credentials changed recently (value: epoch ms of the change). */
  recentChange: (account: string) => `chg:{${account}}`,
  /**
   * Holds written before credential changes, as a lock record of their own (a refused change
   * settles its hold without touching the lock). `holds:`, not the former `hold:` plain value.
   */
  lockHold: (user: string) => `holds:{${user}}`,
  /** Withdrawal lock for an app user id (hashed). */
  withdrawalLock: (user: string) => `lock:{${user}}`,
} as const;
