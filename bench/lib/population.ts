import { generateSecret } from 'otplib';
import type { Rng } from './rng.js';

/**
 * The people and addresses of a benchmark run: the exchange's users (some of whose addresses
 * leaked, a few of whom reuse a password the attacker has), and the leak list the attacker
 * bought, mostly addresses with no account here.
 */
export interface BenchUser {
  readonly email: string;
  readonly password: string;
  /** Base32 TOTP secret: only the legitimate user's authenticator knows it. */
  readonly totpSecret: string;
  readonly leaked: boolean;
  /** The user's password is on the attacker's list (these are the valid pairs). */
  readonly reusesListedPassword: boolean;
}

export interface PopulationSpec {
  /** Accounts on the exchange. Each costs one scrypt hash at server start. */
  users: number;
  /** Share of the accounts whose address is in the leak. */
  leakedShare: number;
  /** Addresses in the leak list (real accounts plus addresses unknown here). */
  leakListSize: number;
  /** Leaked accounts whose password is on the attacker's list. */
  reusers: number;
  /** Of those, how many use exactly the password the sprayer picks. */
  sprayReusers: number;
}

export interface Population {
  readonly users: readonly BenchUser[];
  readonly byEmail: ReadonlyMap<string, BenchUser>;
  /** The leak list as the attacker has it, shuffled. */
  readonly leakList: readonly string[];
}

/**
 * Passwords that top public breach compilations, the attacker's wordlist. The first is the
 * one the password sprayer uses.
 */
export const ATTACKER_WORDLIST = [
  'Spring2025!', 'Qwerty123!', 'password1', 'Aa123456!', 'Welcome2024', 'Bitcoin123', 'Satoshi1!',
  'iloveyou2', 'Ethereum21', 'letmein!!', 'Dragon2023', 'Monkey!23', 'Football7', 'Sunshine99',
  'Zxcvbnm12', '1q2w3e4r5t', 'Charlie01', 'Hodl4life', 'Master123', 'Lambo2026!',
] as const;
export const SPRAY_PASSWORD = ATTACKER_WORDLIST[0];

const DOMAINS = ['gmail.example', 'proton.example', 'outlook.example', 'yahoo.example', 'gmx.example', 'icloud.example'];
const GIVEN = ['anna', 'ben', 'chen', 'dara', 'elif', 'femi', 'gita', 'hugo', 'ines', 'jonas', 'kai', 'lena', 'malik', 'nora', 'omar', 'priya'];

function address(rng: Rng, i: number): string {
  return `${rng.oneOf(GIVEN)}.${rng.text(5, 'abcdefghijklmnopqrstuvwxyz')}${i}@${rng.oneOf(DOMAINS)}`;
}

/** A password a careful user would pick: long, random, never on a list. */
function ownPassword(rng: Rng): string {
  return `${rng.text(6)}-${rng.text(6)}-${rng.text(6)}`;
}

export function buildPopulation(rng: Rng, spec: PopulationSpec): Population {
  const leakedCount = Math.round(spec.users * spec.leakedShare);
  if (spec.reusers > leakedCount) throw new Error('population: more reusers than leaked accounts');
  if (spec.sprayReusers > spec.reusers) throw new Error('population: more spray reusers than reusers');
  const users: BenchUser[] = [];
  for (let i = 0; i < spec.users; i++) {
    const leaked = i < leakedCount;
    const reuses = i < spec.reusers;
    const listed = i < spec.sprayReusers ? SPRAY_PASSWORD : ATTACKER_WORDLIST[1 + rng.below(ATTACKER_WORDLIST.length - 1)];
    users.push({
      email: address(rng, i),
      password: reuses ? (listed as string) : ownPassword(rng),
      totpSecret: generateSecret(),
      leaked,
      reusesListedPassword: reuses,
    });
  }
  const leakList = users.filter((u) => u.leaked).map((u) => u.email);
  for (let i = 0; leakList.length < spec.leakListSize; i++) leakList.push(`${rng.text(8, 'abcdefghijklmnopqrstuvwxyz')}.${i}@${rng.oneOf(DOMAINS)}`);
  return {
    users: rng.shuffled(users),
    byEmail: new Map(users.map((u) => [u.email.toLowerCase(), u])),
    leakList: rng.shuffled(leakList),
  };
}

/** `count` distinct IPv4 addresses spread over many /24s inside the given /8s. */
export function ipv4Pool(rng: Rng, count: number, firstOctets: readonly number[]): string[] {
  const seen = new Set<string>();
  while (seen.size < count) seen.add(`${rng.oneOf(firstOctets)}.${rng.between(0, 255)}.${rng.between(0, 255)}.${rng.between(1, 254)}`);
  return [...seen];
}

/** Residential-proxy ranges the attack is rented from. */
export const PROXY_OCTETS = [31, 46, 78, 89, 102, 109, 176, 188, 193, 212] as const;
/** Home connections of the exchange's users: never the proxies' ranges. */
export const HOME_OCTETS = [24, 68, 73, 81, 92, 151, 172, 203] as const;
/** Mobile networks and hotels: where a user on a new device logs in from. */
export const ROAMING_OCTETS = [37, 100, 141, 217] as const;

function hex16(rng: Rng): string {
  return rng.below(0x10000).toString(16);
}

/**
 * Low-and-slow IPv6 sources, one attempt per address. Half the addresses rotate *inside*
 * a few /64s (cheap for the attacker: one customer prefix holds 2^64 addresses); the other
 * half rotate *across* prefixes, every /64 used once, scattered over many /48s.
 */
export function ipv6Rotation(rng: Rng, count: number, insidePrefixes: number): string[] {
  const iid = () => `${hex16(rng)}:${hex16(rng)}:${hex16(rng)}:${hex16(rng)}`;
  const inside = Math.floor(count / 2);
  const hot = Array.from({ length: insidePrefixes }, () => `2001:db8:${hex16(rng)}:${hex16(rng)}`);
  const out: string[] = [];
  for (let i = 0; i < inside; i++) out.push(`${hot[i % hot.length]}:${iid()}`);
  const sites = Array.from({ length: Math.max(8, Math.ceil((count - inside) / 16)) }, () => `2a0${rng.below(10)}:${hex16(rng)}:${hex16(rng)}`);
  for (let i = inside; i < count; i++) out.push(`${rng.oneOf(sites)}:${hex16(rng)}:${iid()}`);
  return rng.shuffled(out);
}
