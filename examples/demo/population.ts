import { randomBytes } from 'node:crypto';
import { generateSecret } from 'otplib';
import type { SeedUser } from '../exchange-server/users.js';

/** Deterministic choices (mulberry32), so two runs stage the same attack and compare fairly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type Random = ReturnType<typeof prng>;

export function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

export function shuffle<T>(random: Random, list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

/** The attacker's password list: the kind of passwords other breaches are full of. */
export const COMMON_PASSWORDS = [
  'Password123!', 'qwerty123', '123456789', 'iloveyou1', 'Summer2024!', 'Welcome1!', 'letmein123',
  'Passw0rd!', 'football1', 'Bitcoin2021', 'monkey123', 'dragon2020', 'Qwerty!234', 'sunshine1',
  'Crypto4ever', 'trustno1!', 'Hodl2024!', 'princess1', 'abc123456', 'Moon2025!',
] as const;

export interface DemoUser extends SeedUser {
  /** The address is on the attacker's combo list. */
  readonly leaked: boolean;
  /** The combo list holds this user's real password: a common one, or one unique to them that leaked elsewhere. */
  readonly reuse: 'none' | 'common' | 'unique';
}

export interface Population {
  readonly users: DemoUser[];
  /** The attacker's list: real users' addresses mixed with addresses that have no account here. */
  readonly leakedAddresses: string[];
  /** Addresses of other dumps the exchange knows of (some real users): in the shield's list at any coverage. */
  readonly otherLeaks: string[];
}

export interface PopulationSpec {
  leakedTotal: number;
  realLeaked: number;
  realNotLeaked: number;
  /** Leaked users reusing a common password, and a unique one that leaked elsewhere. */
  commonReusers: number;
  uniqueReusers: number;
  /** Real users whose address is in other dumps the shield is handed. */
  otherLeaked: number;
}

/** Users, the attacker's list and the exchange's other dumps, built in memory. */
export function buildPopulation(random: Random, spec: PopulationSpec): Population {
  const users: DemoUser[] = [];
  for (let i = 0; i < spec.realLeaked + spec.realNotLeaked; i++) {
    const leaked = i < spec.realLeaked;
    const reuse = !leaked ? 'none' : i < spec.commonReusers ? 'common' : i < spec.commonReusers + spec.uniqueReusers ? 'unique' : 'none';
    users.push({
      email: `holder${i}@mail${i % 7}.example`,
      password: reuse === 'common' ? pick(random, COMMON_PASSWORDS) : `${randomBytes(12).toString('base64url')}-${i}`,
      totpSecret: generateSecret(),
      leaked,
      reuse,
    });
  }
  const leakedAddresses = users.filter((u) => u.leaked).map((u) => u.email);
  for (let i = 0; leakedAddresses.length < spec.leakedTotal; i++) leakedAddresses.push(`someone${i}@leaked${i % 13}.example`);
  const otherLeaks = shuffle(random, users.filter((u) => !u.leaked).map((u) => u.email)).slice(0, spec.otherLeaked);
  return { users: shuffle(random, users), leakedAddresses: shuffle(random, leakedAddresses), otherLeaks };
}

/**
 * What the shield is handed (LEAKED_ADDRESSES): `coverage` of the attacker's list (its real
 * accounts and the rest, each counted apart) plus the other dumps. A leak list is never complete.
 */
export function shieldLeakList(population: Population, coverage: number): string[] {
  const real = new Set(population.users.map((u) => u.email));
  const take = (list: string[]) => list.slice(0, Math.round(list.length * coverage));
  const attacker = population.leakedAddresses;
  return [...new Set([...take(attacker.filter((a) => real.has(a))), ...take(attacker.filter((a) => !real.has(a))), ...population.otherLeaks])];
}

/** LEAK_COVERAGE (0–100, in %) or the demo's default of 30 %. */
export function leakCoverage(value: string | undefined, fallback = 0.3): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim().replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`LEAK_COVERAGE must be a percentage from 0 to 100; got ${JSON.stringify(value.slice(0, 20))}`);
  return n / 100;
}

/** `size` distinct IPv4 addresses scattered over many /24s whose first octet is one of `firstOctets`. */
function scattered(random: Random, size: number, firstOctets: readonly number[]): string[] {
  const ips = new Set<string>();
  while (ips.size < size) {
    const octet = () => Math.floor(random() * 254) + 1;
    ips.add(`${pick(random, firstOctets)}.${octet()}.${octet()}.${octet()}`);
  }
  return [...ips];
}

/** A residential-proxy pool, as stuffing services rent them. */
export function botnet(random: Random, size: number): string[] {
  return scattered(random, size, [45, 62, 77, 91, 103, 146, 178, 185]);
}

/** Home connections of real users: also scattered, never sharing the botnet's ranges. */
export function homeAddresses(random: Random, size: number): string[] {
  return scattered(random, size, [24, 67, 71, 86, 98, 174, 188, 209]);
}
