import { generateSecret } from 'otplib';
import type { Rng } from './rng.js';

/**
 * The people and addresses of a benchmark run: the exchange's users, the combo list the
 * attacker bought (addresses from another site's dump, mostly with no account here, each paired
 * with passwords), and what the shield is told: a leak list that covers only part of the
 * attacker's addresses (the leak coverage), plus other dumps that hold some real users.
 */
export type Reuse = 'none' | 'common' | 'unique';
export type Factor = 'totp' | 'email';

export interface BenchUser {
  readonly email: string;
  readonly password: string;
  /** Base32 TOTP secret: only the legitimate user's authenticator knows it (unused for email users). */
  readonly totpSecret: string;
  /** The second factor the user answers a step-up with: an authenticator, or a code the exchange emails. */
  readonly factor: Factor;
  /** The address is on the attacker's combo list. */
  readonly targeted: boolean;
  /**
   * The combo list holds this user's real password: `common` (a password on every common list),
   * `unique` (a password only this user has, leaked with the other site's dump).
   */
  readonly reuse: Reuse;
  /** The address is in the other dumps the shield knows whatever the coverage. */
  readonly inOtherLeak: boolean;
}

export interface PopulationSpec {
  /** Accounts on the exchange. Each costs one scrypt hash at server start. */
  users: number;
  /** Share of the accounts whose address is on the attacker's list. */
  targetedShare: number;
  /** Addresses on the attacker's list (real accounts plus addresses unknown here). */
  attackerListSize: number;
  /** Targeted accounts whose password is common and on the attacker's list for them. */
  commonReusers: number;
  /** Of those, how many use exactly the password the sprayer picks. */
  sprayReusers: number;
  /** Targeted accounts whose unique password leaked with the other site's dump. */
  uniqueReusers: number;
  /** Share of accounts without TOTP: they step up with a code the exchange emails. */
  emailFactorShare: number;
  /** Share of the accounts whose address is in other dumps the shield was handed. */
  otherLeakShare: number;
  /** Addresses with no account here in those other dumps. */
  otherLeakSize: number;
}

export interface Population {
  readonly users: readonly BenchUser[];
  readonly byEmail: ReadonlyMap<string, BenchUser>;
  /** The attacker's addresses, shuffled. */
  readonly attackerList: readonly string[];
  /** Addresses of other dumps (some real users, mostly not): in the shield's list at every coverage. */
  readonly otherLeak: readonly string[];
}

/**
 * The 20 most frequent entries of at least 8 characters in zxcvbn's password frequency list:
 * "common" passwords in the strict sense (checked in test/bench/quick.test.ts).
 */
export const COMMON_PASSWORDS = [
  'password', '12345678', '123456789', 'baseball', 'football', 'qwertyuiop', '1234567890', 'superman',
  '1qaz2wsx', 'trustno1', 'sunshine', 'iloveyou', 'computer', 'starwars', 'princess', '11111111',
  'corvette', '1234qwer', 'internet', 'samantha',
] as const;
/** The password sprayer's pick: seasonal and policy-compliant, which is why it works; on no common list. */
export const SPRAY_PASSWORD = 'Spring2025!';

const DOMAINS = ['gmail.example', 'proton.example', 'outlook.example', 'yahoo.example', 'gmx.example', 'icloud.example'];
const GIVEN = ['anna', 'ben', 'chen', 'dara', 'elif', 'femi', 'gita', 'hugo', 'ines', 'jonas', 'kai', 'lena', 'malik', 'nora', 'omar', 'priya'];

function address(rng: Rng, i: number): string {
  return `${rng.oneOf(GIVEN)}.${rng.text(5, 'abcdefghijklmnopqrstuvwxyz')}${i}@${rng.oneOf(DOMAINS)}`;
}

/** A password no list holds: long and random (what a careful user picks, and what a unique reused password looks like). */
export function uniquePassword(rng: Rng): string {
  return `${rng.text(6)}-${rng.text(6)}-${rng.text(6)}`;
}

export function buildPopulation(rng: Rng, spec: PopulationSpec): Population {
  const targetedCount = Math.round(spec.users * spec.targetedShare);
  if (spec.commonReusers + spec.uniqueReusers > targetedCount) throw new Error('population: more reusers than targeted accounts');
  if (spec.sprayReusers > spec.commonReusers) throw new Error('population: more spray reusers than common reusers');
  const users: BenchUser[] = [];
  for (let i = 0; i < spec.users; i++) {
    const targeted = i < targetedCount;
    const reuse: Reuse = i < spec.commonReusers ? 'common' : i < spec.commonReusers + spec.uniqueReusers ? 'unique' : 'none';
    const common = i < spec.sprayReusers ? SPRAY_PASSWORD : (COMMON_PASSWORDS[rng.below(COMMON_PASSWORDS.length)] as string);
    users.push({
      email: address(rng, i),
      password: reuse === 'common' ? common : uniquePassword(rng),
      totpSecret: generateSecret(),
      factor: rng.chance(spec.emailFactorShare) ? 'email' : 'totp',
      targeted,
      reuse,
      inOtherLeak: rng.chance(spec.otherLeakShare),
    });
  }
  const attackerList = users.filter((u) => u.targeted).map((u) => u.email);
  for (let i = 0; attackerList.length < spec.attackerListSize; i++) attackerList.push(`${rng.text(8, 'abcdefghijklmnopqrstuvwxyz')}.${i}@${rng.oneOf(DOMAINS)}`);
  const otherLeak = users.filter((u) => u.inOtherLeak).map((u) => u.email);
  for (let i = 0; i < spec.otherLeakSize; i++) otherLeak.push(`${rng.text(7, 'abcdefghijklmnopqrstuvwxyz')}.o${i}@${rng.oneOf(DOMAINS)}`);
  return {
    users: rng.shuffled(users),
    byEmail: new Map(users.map((u) => [u.email.toLowerCase(), u])),
    attackerList: rng.shuffled(attackerList),
    otherLeak: rng.shuffled(otherLeak),
  };
}

/**
 * The list handed to the shield (`LEAKED_ADDRESSES`) at a leak coverage: that share of the
 * attacker's real-account addresses and, separately, of its other addresses (so the share
 * holds for the accounts that matter, not just on average), plus the other dumps. Lists are
 * nested: what 30 % covers, 100 % covers too.
 */
export function shieldLeakList(population: Population, coverage: number): string[] {
  if (!(coverage >= 0 && coverage <= 1)) throw new Error(`leak coverage must be within 0..1; got ${coverage}`);
  const real = population.attackerList.filter((a) => population.byEmail.has(a.toLowerCase()));
  const others = population.attackerList.filter((a) => !population.byEmail.has(a.toLowerCase()));
  const covered = [...real.slice(0, Math.round(real.length * coverage)), ...others.slice(0, Math.round(others.length * coverage))];
  return [...new Set([...covered, ...population.otherLeak])];
}

/** `count` distinct IPv4 addresses spread over many /24s inside the given /8s. */
export function ipv4Pool(rng: Rng, count: number, firstOctets: readonly number[]): string[] {
  const seen = new Set<string>();
  while (seen.size < count) seen.add(`${rng.oneOf(firstOctets)}.${rng.between(0, 255)}.${rng.between(0, 255)}.${rng.between(1, 254)}`);
  return [...seen];
}

/** `count` IPv4 addresses, each in a /24 of its own. */
export function distinctSubnets4(rng: Rng, count: number, firstOctets: readonly number[]): string[] {
  const subnets = new Set<string>();
  while (subnets.size < count) subnets.add(`${rng.oneOf(firstOctets)}.${rng.between(0, 255)}.${rng.between(0, 255)}`);
  return [...subnets].map((s) => `${s}.${rng.between(1, 254)}`);
}

/** Residential-proxy ranges the attack is rented from. */
export const PROXY_OCTETS = [31, 46, 78, 89, 102, 109, 176, 188, 193, 212] as const;
/** Home connections of the exchange's users: never the proxies' ranges. */
export const HOME_OCTETS = [24, 68, 73, 81, 92, 151, 172, 203] as const;
/** Mobile networks and hotels: where a user on a new device logs in from. */
export const ROAMING_OCTETS = [37, 100, 141, 217] as const;
/** The carrier-grade NAT (or office) address the attacker shares with real users. */
export const SHARED_ADDRESS = '100.64.23.7';

function hex16(rng: Rng): string {
  return rng.below(0x10000).toString(16);
}

const iid = (rng: Rng) => `${hex16(rng)}:${hex16(rng)}:${hex16(rng)}:${hex16(rng)}`;

/** `count` IPv6 addresses, each in a /48 of its own (residential IPv6 hands each customer a /48 or /56). */
export function distinctSubnets6(rng: Rng, count: number): string[] {
  const sites = new Set<string>();
  while (sites.size < count) sites.add(`2a0${rng.below(10)}:${hex16(rng)}:${hex16(rng)}`);
  return [...sites].map((s) => `${s}:${hex16(rng)}:${iid(rng)}`);
}

/**
 * Low-and-slow IPv6 sources, one attempt per address. Half the addresses rotate *inside*
 * a few /64s (cheap for the attacker: one customer prefix holds 2^64 addresses); the other
 * half rotate *across* prefixes, every /64 used once, scattered over many /48s.
 */
export function ipv6Rotation(rng: Rng, count: number, insidePrefixes: number): string[] {
  const inside = Math.floor(count / 2);
  const hot = Array.from({ length: insidePrefixes }, () => `2001:db8:${hex16(rng)}:${hex16(rng)}`);
  const out: string[] = [];
  for (let i = 0; i < inside; i++) out.push(`${hot[i % hot.length]}:${iid(rng)}`);
  const sites = Array.from({ length: Math.max(8, Math.ceil((count - inside) / 16)) }, () => `2a0${rng.below(10)}:${hex16(rng)}:${hex16(rng)}`);
  for (let i = inside; i < count; i++) out.push(`${rng.oneOf(sites)}:${hex16(rng)}:${iid(rng)}`);
  return rng.shuffled(out);
}
