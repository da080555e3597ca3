import type { PopulationSpec } from './population.js';
import type { PlanSizes } from './scenarios.js';

/**
 * Sizes of a run. The example hashes passwords with scrypt at Node's default cost (2^14), as
 * an exchange would: every login that reaches the password check costs ~35 ms of a core, so
 * the budgets below are what fits in minutes (full) or under two minutes in all (quick).
 */
export interface Mode {
  readonly name: 'full' | 'quick';
  readonly seed: number;
  readonly population: PopulationSpec;
  readonly sizes: PlanSizes;
  /** Hard limit on one scenario × protection run (the attack stops launching after it). */
  readonly timeCapMs: number;
  readonly throughput: {
    /** Seconds of load per measurement window. */
    readonly durationSec: number;
    readonly warmupSec: number;
    /** Windows per variant, in alternating order (A B C, C B A, ...) against long-lived servers, so drift on a shared machine hits every variant alike. */
    readonly rounds: number;
    readonly connections: number;
    /** Sequential in-process decisions timed per store. */
    readonly decisions: number;
    /** Seconds of load on the example's real (scrypt) login. */
    readonly scryptDurationSec: number;
    /**
     * Accounts logged in once before the returning-user load (their cookies are replayed). Enough
     * that no account sees more than a few dozen logins, so per-account and per-IP counters stay
     * far from their limits, as for real returning users.
     */
    readonly returningAccounts: number;
  };
}

/** Passwords per leaked address in the stuffing run, [count, % of addresses]: mean 2.9, heavy tail. */
const STUFFING_MIX = [
  [1, 30],
  [2, 25],
  [3, 20],
  [4, 10],
  [6, 10],
  [10, 5],
] as const;

export const FULL: Mode = {
  name: 'full',
  seed: 0x5eed_2026,
  population: { users: 200, leakedShare: 0.6, leakListSize: 4_000, reusers: 20, sprayReusers: 6 },
  sizes: {
    attempts: { stuffing: 2_400, 'low-and-slow': 1_200, spraying: 1_200 },
    passwordsPerAddress: STUFFING_MIX,
    proxyIps: 6_000,
    accountsPerSprayIp: 8,
    hotPrefixes: 6,
    legitUsers: 80,
    legitLeakedShare: 0.7,
    stuffingConcurrency: 16,
    lowAndSlowConcurrency: 4,
    sprayingConcurrency: 16,
  },
  timeCapMs: 240_000,
  throughput: { durationSec: 4, warmupSec: 2, rounds: 5, connections: 32, decisions: 3_000, scryptDurationSec: 4, returningAccounts: 8_000 },
};

export const QUICK: Mode = {
  name: 'quick',
  seed: 0x5eed_2026,
  population: { users: 32, leakedShare: 0.6, leakListSize: 300, reusers: 3, sprayReusers: 2 },
  sizes: {
    attempts: { stuffing: 64, 'low-and-slow': 64, spraying: 64 },
    passwordsPerAddress: STUFFING_MIX,
    proxyIps: 300,
    accountsPerSprayIp: 8,
    hotPrefixes: 2,
    legitUsers: 8,
    legitLeakedShare: 0.7,
    stuffingConcurrency: 8,
    lowAndSlowConcurrency: 4,
    sprayingConcurrency: 8,
  },
  timeCapMs: 25_000,
  throughput: { durationSec: 2, warmupSec: 1, rounds: 1, connections: 16, decisions: 600, scryptDurationSec: 2, returningAccounts: 2_000 },
};
