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
  readonly leaked: boolean;
  /** Reuses a password from the attacker's list (the pairs that are actually correct). */
  readonly reusesCommonPassword: boolean;
}

export interface Population {
  readonly users: DemoUser[];
  /** The whole leak: real users' addresses mixed with addresses that have no account here. */
  readonly leakedAddresses: string[];
}

export interface PopulationSpec {
  leakedTotal: number;
  realLeaked: number;
  realNotLeaked: number;
  reusers: number;
}

/** Users, and the leak list the attacker bought, built in memory. */
export function buildPopulation(random: Random, spec: PopulationSpec): Population {
  const users: DemoUser[] = [];
  for (let i = 0; i < spec.realLeaked + spec.realNotLeaked; i++) {
    const leaked = i < spec.realLeaked;
    const reuses = leaked && i < spec.reusers;
    users.push({
      email: `holder${i}@mail${i % 7}.example`,
      password: reuses ? pick(random, COMMON_PASSWORDS) : `${randomBytes(12).toString('base64url')}-${i}`,
      totpSecret: generateSecret(),
      leaked,
      reusesCommonPassword: reuses,
    });
  }
  const leakedAddresses = users.filter((u) => u.leaked).map((u) => u.email);
  for (let i = 0; leakedAddresses.length < spec.leakedTotal; i++) leakedAddresses.push(`someone${i}@leaked${i % 13}.example`);
  return { users: shuffle(random, users), leakedAddresses: shuffle(random, leakedAddresses) };
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
