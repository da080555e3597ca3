import type { PopulationSpec } from './population.js';
import type { PlanSizes } from './scenarios.js';

/**
 * Sizes of a run. The example hashes passwords with scrypt at Node's default cost (2^14), as
 * an exchange would: every login that reaches the password check, and every seed user at each
 * server start, costs ~35 ms of a core, so the budgets below are what fits in ~15 minutes
 * (full: 6 scenarios × (3 baselines + 2 postures × 3 coverages) = 54 servers) or under two
 * minutes in all (quick: one coverage, 30 servers).
 */
export interface Mode {
  readonly name: 'full' | 'quick';
  readonly seed: number;
  /** Leak coverages the shield is run at: the share of the attacker's addresses in the list it is handed. */
  readonly coverages: readonly number[];
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

/** Passwords per address in the combo list, [count, % of addresses]: mean 2.9, heavy tail. */
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
  coverages: [1, 0.3, 0],
  population: {
    users: 120,
    targetedShare: 0.6,
    attackerListSize: 3_000,
    commonReusers: 10,
    sprayReusers: 4,
    uniqueReusers: 10,
    emailFactorShare: 0.3,
    otherLeakShare: 0.3,
    otherLeakSize: 2_000,
  },
  sizes: {
    attempts: { stuffing: 400, 'low-and-slow': 250, spraying: 250, 'residential-proxy': 350, paced: 100, 'shared-address': 250 },
    concurrency: { stuffing: 16, 'low-and-slow': 4, spraying: 16, 'residential-proxy': 8, paced: 4, 'shared-address': 8 },
    passwordsPerAddress: STUFFING_MIX,
    proxyIps: 1_500,
    accountsPerSprayIp: 8,
    hotPrefixes: 6,
    legitUsers: 48,
    legitTargetedShare: 0.7,
    sharedUserShare: 0.25,
  },
  timeCapMs: 120_000,
  throughput: { durationSec: 4, warmupSec: 2, rounds: 5, connections: 32, decisions: 3_000, scryptDurationSec: 4, returningAccounts: 8_000 },
};

export const QUICK: Mode = {
  name: 'quick',
  seed: 0x5eed_2026,
  coverages: [0],
  population: {
    users: 32,
    targetedShare: 0.6,
    attackerListSize: 300,
    commonReusers: 2,
    sprayReusers: 1,
    uniqueReusers: 2,
    emailFactorShare: 0.3,
    otherLeakShare: 0.3,
    otherLeakSize: 100,
  },
  sizes: {
    // paced: capped at two thirds of the wave's minimum per window by the scenario itself.
    attempts: { stuffing: 24, 'low-and-slow': 24, spraying: 24, 'residential-proxy': 24, paced: 40, 'shared-address': 24 },
    concurrency: { stuffing: 8, 'low-and-slow': 4, spraying: 8, 'residential-proxy': 8, paced: 4, 'shared-address': 8 },
    passwordsPerAddress: STUFFING_MIX,
    proxyIps: 300,
    accountsPerSprayIp: 8,
    hotPrefixes: 2,
    legitUsers: 6,
    legitTargetedShare: 0.7,
    sharedUserShare: 0.25,
  },
  timeCapMs: 25_000,
  throughput: { durationSec: 2, warmupSec: 1, rounds: 1, connections: 16, decisions: 600, scryptDurationSec: 2, returningAccounts: 2_000 },
};
