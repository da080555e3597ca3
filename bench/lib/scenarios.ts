import {
  ATTACKER_WORDLIST,
  type BenchUser,
  HOME_OCTETS,
  ipv4Pool,
  ipv6Rotation,
  type Population,
  PROXY_OCTETS,
  ROAMING_OCTETS,
  SPRAY_PASSWORD,
} from './population.js';
import type { Rng } from './rng.js';

/** One attacker request: a combo from the attacker's list, sent from one client address. */
export interface Attempt {
  readonly email: string;
  readonly password: string;
  readonly ip: string;
  /** Ground truth the attacker does not have: the pair is a real user's password. */
  readonly correct: boolean;
}

export type FlowKind = 'known-device' | 'typo' | 'new-device';

/** A legitimate login during the attack, started when the attack reaches attempt `at`. */
export interface LegitFlow {
  readonly user: BenchUser;
  readonly kind: FlowKind;
  readonly at: number;
  /** Home address, or a roaming one for a new device. */
  readonly ip: string;
}

export interface Plan {
  readonly name: ScenarioName;
  readonly title: string;
  readonly description: string;
  readonly attempts: readonly Attempt[];
  /** Attacker requests in flight at once. */
  readonly concurrency: number;
  /** Users who enrolled a device before the attack (and are checked for lock-out after it). */
  readonly enrolled: readonly BenchUser[];
  readonly homes: ReadonlyMap<BenchUser, string>;
  readonly flows: readonly LegitFlow[];
}

export const SCENARIOS = ['stuffing', 'low-and-slow', 'spraying'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface PlanSizes {
  /** Attacker requests per scenario (the fixed request budget). */
  attempts: Readonly<Record<ScenarioName, number>>;
  /**
   * Passwords the stuffer pairs with each address, as [count, weight] pairs: combo lists are
   * heavy-tailed (an address in many breaches comes with many passwords).
   */
  passwordsPerAddress: readonly (readonly [number, number])[];
  /** Residential-proxy addresses of the distributed stuffing run. */
  proxyIps: number;
  /** Accounts each spraying source tries. */
  accountsPerSprayIp: number;
  /** /64s the naive half of the low-and-slow run rotates inside. */
  hotPrefixes: number;
  /** Legitimate users (enrolled before, logging in during, checked after). */
  legitUsers: number;
  /** Share of those whose address is in the leak (the attack's victims). */
  legitLeakedShare: number;
  stuffingConcurrency: number;
  lowAndSlowConcurrency: number;
  sprayingConcurrency: number;
}

/** Addresses the attacker works through: the leak list, real accounts first in no particular order. */
function targets(rng: Rng, population: Population, count: number): string[] {
  const real = population.users.filter((u) => u.leaked).map((u) => u.email);
  const realSet = new Set(real);
  const others = population.leakList.filter((a) => !realSet.has(a));
  return rng.shuffled([...real, ...others].slice(0, Math.max(count, real.length)));
}

function isCorrect(population: Population, email: string, password: string): boolean {
  return population.byEmail.get(email.toLowerCase())?.password === password;
}

/** Every real user's legitimate side of the run: who enrolled, from where, what they do during the attack. */
function legitimate(rng: Rng, population: Population, sizes: PlanSizes, attempts: number) {
  const leakedWanted = Math.round(sizes.legitUsers * sizes.legitLeakedShare);
  const leaked = rng.shuffled(population.users.filter((u) => u.leaked)).slice(0, leakedWanted);
  const clean = rng.shuffled(population.users.filter((u) => !u.leaked)).slice(0, sizes.legitUsers - leaked.length);
  const enrolled = rng.shuffled([...leaked, ...clean]);
  const homeIps = ipv4Pool(rng, enrolled.length, HOME_OCTETS);
  const roaming = ipv4Pool(rng, enrolled.length, ROAMING_OCTETS);
  const homes = new Map(enrolled.map((u, i) => [u, homeIps[i] as string]));
  const flows: LegitFlow[] = enrolled.map((user, i) => {
    const roll = rng.next();
    const kind: FlowKind = roll < 0.65 ? 'known-device' : roll < 0.8 ? 'typo' : 'new-device';
    const at = Math.floor(attempts * (0.05 + 0.85 * rng.next()));
    return { user, kind, at, ip: kind === 'new-device' ? (roaming[i] as string) : (homes.get(user) as string) };
  });
  flows.sort((a, b) => a.at - b.at);
  return { enrolled, homes, flows };
}

/** Distributed stuffing: leaked addresses × listed passwords, from thousands of proxy IPs. */
export function meanPasswordsPerAddress(mix: PlanSizes['passwordsPerAddress']): number {
  const total = mix.reduce((a, [, w]) => a + w, 0);
  return mix.reduce((a, [k, w]) => a + k * w, 0) / total;
}

function drawCount(rng: Rng, mix: PlanSizes['passwordsPerAddress']): number {
  const total = mix.reduce((a, [, w]) => a + w, 0);
  let roll = rng.next() * total;
  for (const [k, w] of mix) {
    roll -= w;
    if (roll < 0) return k;
  }
  return mix[mix.length - 1]?.[0] ?? 1;
}

function stuffing(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const budget = sizes.attempts.stuffing;
  // Every real leaked account first (so the valid pairs are all in), then other leaked
  // addresses until the budget is filled.
  const real = population.users.filter((u) => u.leaked).map((u) => u.email);
  const realSet = new Set(real);
  const addresses = [...rng.shuffled(real), ...population.leakList.filter((a) => !realSet.has(a))];
  const ips = ipv4Pool(rng, sizes.proxyIps, PROXY_OCTETS);
  const attempts: Attempt[] = [];
  for (const [i, email] of addresses.entries()) {
    if (i >= real.length && attempts.length >= budget) break;
    const user = population.byEmail.get(email.toLowerCase());
    const k = Math.min(drawCount(rng, sizes.passwordsPerAddress), ATTACKER_WORDLIST.length);
    const tries = new Set<string>();
    if (user?.reusesListedPassword) tries.add(user.password);
    while (tries.size < k) tries.add(rng.oneOf(ATTACKER_WORDLIST));
    for (const password of tries) attempts.push({ email, password, ip: rng.oneOf(ips), correct: isCorrect(population, email, password) });
  }
  return keepCorrect(rng.shuffled(attempts), budget);
}

/** Cut a shuffled list to the budget without dropping the valid pairs (the fraction is set by the population). */
function keepCorrect(attempts: Attempt[], budget: number): Attempt[] {
  if (attempts.length <= budget) return attempts;
  const correct = attempts.filter((a) => a.correct);
  const wrong = attempts.filter((a) => !a.correct).slice(0, budget - correct.length);
  const keep = new Set<Attempt>([...correct, ...wrong]);
  return attempts.filter((a) => keep.has(a));
}

/** Low-and-slow: one attempt per IPv6 address, rotating inside and across prefixes. */
function lowAndSlow(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const addresses = targets(rng, population, sizes.attempts['low-and-slow']);
  const ips = ipv6Rotation(rng, addresses.length, sizes.hotPrefixes);
  const attempts = addresses.map((email, i) => {
    const user = population.byEmail.get(email.toLowerCase());
    const password = user?.reusesListedPassword ? user.password : rng.oneOf(ATTACKER_WORDLIST);
    return { email, password, ip: ips[i] as string, correct: isCorrect(population, email, password) };
  });
  return keepCorrect(attempts, sizes.attempts['low-and-slow']);
}

/** Password spraying: one password across many accounts, each source trying a handful. */
function spraying(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const addresses = targets(rng, population, sizes.attempts.spraying);
  const ips = ipv4Pool(rng, Math.ceil(addresses.length / sizes.accountsPerSprayIp), PROXY_OCTETS);
  const attempts = addresses.map((email, i) => ({
    email,
    password: SPRAY_PASSWORD,
    ip: ips[Math.floor(i / sizes.accountsPerSprayIp)] as string,
    correct: isCorrect(population, email, SPRAY_PASSWORD),
  }));
  return keepCorrect(rng.shuffled(attempts), sizes.attempts.spraying);
}

const DESCRIPTIONS: Record<ScenarioName, { title: string; description: (s: PlanSizes) => string }> = {
  stuffing: {
    title: 'Distributed credential stuffing',
    description: (s) =>
      `leaked addresses × listed passwords (per address: ${s.passwordsPerAddress.map(([k, w]) => `${k} for ${w} %`).join(', ')}; mean ${meanPasswordsPerAddress(s.passwordsPerAddress).toFixed(1)}), from a pool of ${s.proxyIps} residential-proxy IPv4 addresses, ${s.stuffingConcurrency} in flight`,
  },
  'low-and-slow': {
    title: 'Low-and-slow IPv6 rotation',
    description: (s) =>
      `one attempt per IPv6 address; half rotate inside ${s.hotPrefixes} /64s, half across /64s and /48s (each /64 once); ${s.lowAndSlowConcurrency} in flight`,
  },
  spraying: {
    title: 'Password spraying',
    description: (s) => `"${SPRAY_PASSWORD}" against every leaked address, ${s.accountsPerSprayIp} accounts per source IP, ${s.sprayingConcurrency} in flight`,
  },
};

export function buildPlan(name: ScenarioName, rng: Rng, population: Population, sizes: PlanSizes): Plan {
  const attempts = name === 'stuffing' ? stuffing(rng, population, sizes) : name === 'low-and-slow' ? lowAndSlow(rng, population, sizes) : spraying(rng, population, sizes);
  const concurrency =
    name === 'stuffing' ? sizes.stuffingConcurrency : name === 'low-and-slow' ? sizes.lowAndSlowConcurrency : sizes.sprayingConcurrency;
  const { title, description } = DESCRIPTIONS[name];
  return { name, title, description: description(sizes), attempts, concurrency, ...legitimate(rng, population, sizes, attempts.length) };
}
