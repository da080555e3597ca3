import { defaults } from '../../src/config/config.js';
import {
  type BenchUser,
  COMMON_PASSWORDS,
  distinctSubnets4,
  distinctSubnets6,
  HOME_OCTETS,
  ipv4Pool,
  ipv6Rotation,
  type Population,
  PROXY_OCTETS,
  type Reuse,
  ROAMING_OCTETS,
  SHARED_ADDRESS,
  SPRAY_PASSWORD,
  uniquePassword,
} from './population.js';
import type { Rng } from './rng.js';

/** One attacker request: a combo from the attacker's list, sent from one client address. */
export interface Attempt {
  readonly email: string;
  readonly password: string;
  readonly ip: string;
  /** Ground truth the attacker does not have: the pair is a real user's password. */
  readonly correct: boolean;
  /** For a right pair, how the password leaked (`none` for a wrong one). */
  readonly reuse: Reuse;
}

/** `typo` mistypes on the known device; `new-device-typo` mistypes on a new one (the step-up dead end of issue 9). */
export type FlowKind = 'known-device' | 'typo' | 'new-device' | 'new-device-typo';

export const isNewDevice = (kind: FlowKind) => kind === 'new-device' || kind === 'new-device-typo';

/** A legitimate login during the attack, started when the attack reaches attempt `at`. */
export interface LegitFlow {
  readonly user: BenchUser;
  readonly kind: FlowKind;
  readonly at: number;
  /** Home address, or a roaming one for a new device (the shared address for users behind it). */
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
  /** Known-device logins of enrolled users sent with every attacker attempt (a busy exchange). */
  readonly backgroundPerAttempt: number;
  /** Those logins in order: who, from which (mobile, ever-changing) address. */
  readonly background: readonly { readonly user: BenchUser; readonly ip: string }[];
  /** The address the attacker shares with some real users, if any. */
  readonly sharedAddress?: string;
}

export const SCENARIOS = ['stuffing', 'low-and-slow', 'spraying', 'residential-proxy', 'paced', 'shared-address'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface PlanSizes {
  /** Attacker requests per scenario (the fixed request budget). */
  attempts: Readonly<Record<ScenarioName, number>>;
  /** Attacker requests in flight at once, per scenario. */
  concurrency: Readonly<Record<ScenarioName, number>>;
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
  /** Share of those whose address is on the attacker's list (the attack's victims). */
  legitTargetedShare: number;
  /** Share of the legitimate users behind the attacker's address in `shared-address`. */
  sharedUserShare: number;
}

/** An attempt's ground truth: whether the pair is right, and how that password leaked. */
function judged(population: Population, email: string, password: string): Omit<Attempt, 'ip'> {
  const user = population.byEmail.get(email.toLowerCase());
  const correct = user?.password === password;
  return { email, password, correct, reuse: correct ? (user as BenchUser).reuse : 'none' };
}

/** The attacker's addresses, every real account first (so all valid pairs are in), then the rest. */
function targets(rng: Rng, population: Population): string[] {
  const real = population.attackerList.filter((a) => population.byEmail.has(a.toLowerCase()));
  const others = population.attackerList.filter((a) => !population.byEmail.has(a.toLowerCase()));
  return [...rng.shuffled(real), ...others];
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

export function meanPasswordsPerAddress(mix: PlanSizes['passwordsPerAddress']): number {
  const total = mix.reduce((a, [, w]) => a + w, 0);
  return mix.reduce((a, [k, w]) => a + k * w, 0) / total;
}

/**
 * The combo list's passwords for one address: the user's real one when it leaked (common or
 * unique), then others from the same dumps, half common passwords and half one-off ones.
 */
function combosFor(rng: Rng, population: Population, email: string, count: number): string[] {
  const user = population.byEmail.get(email.toLowerCase());
  const tries = new Set<string>();
  if (user && user.reuse !== 'none') tries.add(user.password);
  while (tries.size < count) tries.add(rng.chance(0.5) ? rng.oneOf(COMMON_PASSWORDS) : uniquePassword(rng));
  return [...tries];
}

/** Combos for the attacker's addresses until the budget is filled (never dropping a valid pair). */
function comboAttempts(rng: Rng, population: Population, sizes: PlanSizes, budget: number, maxPerAddress = Infinity): Omit<Attempt, 'ip'>[] {
  const out: Omit<Attempt, 'ip'>[] = [];
  for (const email of targets(rng, population)) {
    const user = population.byEmail.get(email.toLowerCase());
    if (out.length >= budget && !(user && user.reuse !== 'none')) continue;
    const count = Math.min(drawCount(rng, sizes.passwordsPerAddress), maxPerAddress);
    for (const password of combosFor(rng, population, email, count)) out.push(judged(population, email, password));
  }
  return keepCorrect(rng.shuffled(out), budget);
}

/** Cut a shuffled list to the budget without dropping the valid pairs (the fraction is set by the population). */
function keepCorrect<T extends { correct: boolean }>(attempts: T[], budget: number): T[] {
  if (attempts.length <= budget) return attempts;
  const correct = attempts.filter((a) => a.correct);
  const wrong = attempts.filter((a) => !a.correct).slice(0, Math.max(0, budget - correct.length));
  const keep = new Set<T>([...correct, ...wrong]);
  return attempts.filter((a) => keep.has(a));
}

/** Distributed stuffing: combos from a pool of residential-proxy IPs (an address is used more than once). */
function stuffing(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const ips = ipv4Pool(rng, sizes.proxyIps, PROXY_OCTETS);
  return comboAttempts(rng, population, sizes, sizes.attempts.stuffing).map((a) => ({ ...a, ip: rng.oneOf(ips) }));
}

/** Low-and-slow: one attempt per IPv6 address, rotating inside and across prefixes. */
function lowAndSlow(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const attempts = comboAttempts(rng, population, sizes, sizes.attempts['low-and-slow'], 1);
  const ips = ipv6Rotation(rng, attempts.length, sizes.hotPrefixes);
  return attempts.map((a, i) => ({ ...a, ip: ips[i] as string }));
}

/** Password spraying: one password across many accounts, each source trying a handful. */
function spraying(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const addresses = targets(rng, population).slice(0, Math.max(sizes.attempts.spraying, population.users.filter((u) => u.targeted).length));
  const ips = ipv4Pool(rng, Math.ceil(addresses.length / sizes.accountsPerSprayIp), PROXY_OCTETS);
  const attempts = rng.shuffled(addresses).map((email, i) => ({ ...judged(population, email, SPRAY_PASSWORD), ip: ips[Math.floor(i / sizes.accountsPerSprayIp)] as string }));
  return keepCorrect(rng.shuffled(attempts), sizes.attempts.spraying);
}

/** Residential proxies: every attempt from another /24 (IPv4) or /48 (IPv6), half each. */
function residentialProxy(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const attempts = comboAttempts(rng, population, sizes, sizes.attempts['residential-proxy']);
  const v4 = distinctSubnets4(rng, Math.ceil(attempts.length / 2), PROXY_OCTETS);
  const v6 = distinctSubnets6(rng, Math.floor(attempts.length / 2));
  return attempts.map((a, i) => ({ ...a, ip: (i % 2 === 0 ? v4[i / 2] : v6[(i - 1) / 2]) as string }));
}

/** The most a source may do under a velocity rule without adding a point: the signal adds half its points at half the limit. */
const free = (rule: { limit: number }) => Math.max(1, Math.ceil(rule.limit / 2) - 1);

/** The parts of a shield configuration the paced attacker reads (the shield's defaults unless told otherwise). */
export interface PacedAgainst {
  readonly velocity: Readonly<Record<'ip' | 'subnet' | 'ipAccount' | 'accountsPerIp' | 'account', { readonly limit: number }>> & {
    /** Attempts with a common or breached password per IP, where the shield counts them. */
    readonly listedPasswords?: { readonly limit: number };
  };
  readonly wave: { readonly minFailures: number };
}

export interface Pacing {
  /** Attempts per client address, each for another account. */
  readonly perIp: number;
  /** Client addresses per /24. */
  readonly ipsPerSubnet: number;
  /** Attempts per account (across all addresses). */
  readonly perAccount: number;
  /** Known-device logins by real users sent with every attacker attempt (a busy exchange). */
  readonly backgroundPerAttempt: number;
  /** Attempts per wave window: two thirds of the wave's minimum evidence, so no bucket ever reaches it. */
  readonly perWaveWindow: number;
  /** The attacker's share of all logins that follows. */
  readonly attackShare: number;
}

/**
 * The paced attacker's plan, from the shield's documented defaults (so it follows them when
 * they change): under half of every per-source limit (ip, subnet, ip+account, accounts per ip,
 * listed passwords per ip where the shield has it; IPv4 only, so no per-/48 tier applies) and of
 * the per-account one, and under the wave: at most two thirds of its minimum evidence per window
 * (the wave cannot be diluted, so hiding in a busy exchange's traffic — the attack is 20 % of
 * logins here — is not enough on its own). It presents many addresses rather than waiting out
 * velocity windows, and sends one wave window's worth of attempts.
 */
export function pacing(config: PacedAgainst = defaults): Pacing {
  const v = config.velocity;
  const perIp = Math.min(free(v.ip), free(v.accountsPerIp), v.listedPasswords ? free(v.listedPasswords) : Infinity);
  // A busy exchange where the attack is 20 % of all logins.
  const backgroundPerAttempt = 4;
  return {
    perIp,
    ipsPerSubnet: Math.max(1, Math.floor(free(v.subnet) / perIp)),
    perAccount: Math.min(free(v.account), free(v.ipAccount) * perIp),
    backgroundPerAttempt,
    attackShare: 1 / (1 + backgroundPerAttempt),
    perWaveWindow: Math.max(1, Math.floor((config.wave.minFailures * 2) / 3)),
  };
}

function paced(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  const p = pacing();
  const byAccount = new Map<string, Omit<Attempt, 'ip'>[]>();
  for (const a of comboAttempts(rng, population, sizes, Math.min(sizes.attempts.paced, p.perWaveWindow), p.perAccount)) byAccount.set(a.email, [...(byAccount.get(a.email) ?? []), a]);
  // Round robin over accounts, so any run of `perIp` consecutive attempts names distinct accounts.
  const ordered: Omit<Attempt, 'ip'>[] = [];
  for (let round = 0; ordered.length < [...byAccount.values()].reduce((n, l) => n + l.length, 0); round++) {
    for (const list of byAccount.values()) if (list[round]) ordered.push(list[round]!);
  }
  const ipCount = Math.ceil(ordered.length / p.perIp);
  const subnets = distinctSubnets4(rng, Math.ceil(ipCount / p.ipsPerSubnet), PROXY_OCTETS).map((ip) => ip.slice(0, ip.lastIndexOf('.')));
  const ips = Array.from({ length: ipCount }, (_, i) => `${subnets[Math.floor(i / p.ipsPerSubnet)]}.${1 + (i % p.ipsPerSubnet)}`);
  return rng.shuffled(ordered.map((a, i) => ({ ...a, ip: ips[Math.floor(i / p.perIp)] as string })));
}

/** One address for the whole attack: the carrier-grade NAT or office some real users sit behind. */
function sharedAddress(rng: Rng, population: Population, sizes: PlanSizes): Attempt[] {
  return comboAttempts(rng, population, sizes, sizes.attempts['shared-address']).map((a) => ({ ...a, ip: SHARED_ADDRESS }));
}

const KIND_CYCLE: readonly FlowKind[] = ['known-device', 'new-device', 'typo', 'new-device-typo'];

/**
 * Every real user's legitimate side of the run: who enrolled, from where, what they do during
 * the attack. Behind a shared address, users cycle through the flow kinds so each is present.
 */
function legitimate(rng: Rng, population: Population, sizes: PlanSizes, attempts: number, shared: string | undefined) {
  const targetedWanted = Math.round(sizes.legitUsers * sizes.legitTargetedShare);
  const targeted = population.users.filter((u) => u.targeted);
  // Up to half of the targeted legitimate users are the ones whose password leaked: the attack's real victims.
  const victims = rng.shuffled(targeted.filter((u) => u.reuse !== 'none')).slice(0, Math.floor(targetedWanted / 2));
  const rest = rng.shuffled(targeted.filter((u) => !victims.includes(u))).slice(0, targetedWanted - victims.length);
  const clean = rng.shuffled(population.users.filter((u) => !u.targeted)).slice(0, sizes.legitUsers - victims.length - rest.length);
  const enrolled = rng.shuffled([...victims, ...rest, ...clean]);
  const behind = shared ? Math.round(enrolled.length * sizes.sharedUserShare) : 0;
  const homeIps = ipv4Pool(rng, enrolled.length, HOME_OCTETS);
  const roaming = ipv4Pool(rng, enrolled.length, ROAMING_OCTETS);
  const homes = new Map(enrolled.map((u, i) => [u, i < behind ? (shared as string) : (homeIps[i] as string)]));
  const flows: LegitFlow[] = enrolled.map((user, i) => {
    const roll = rng.next();
    const kind: FlowKind = i < behind ? (KIND_CYCLE[i % KIND_CYCLE.length] as FlowKind) : roll < 0.6 ? 'known-device' : roll < 0.75 ? 'typo' : roll < 0.9 ? 'new-device' : 'new-device-typo';
    const at = Math.floor(attempts * (0.05 + 0.85 * rng.next()));
    const ip = isNewDevice(kind) && i >= behind ? (roaming[i] as string) : (homes.get(user) as string);
    return { user, kind, at, ip };
  });
  flows.sort((a, b) => a.at - b.at);
  return { enrolled, homes, flows };
}

const mix = (s: PlanSizes) =>
  `${s.passwordsPerAddress.map(([k, w]) => `${k} for ${w} %`).join(', ')}; mean ${meanPasswordsPerAddress(s.passwordsPerAddress).toFixed(1)}; each a real user's leaked password (common or unique) or half common, half one-off`;

const DESCRIPTIONS: Record<ScenarioName, { title: string; description: (s: PlanSizes) => string }> = {
  stuffing: {
    title: 'Distributed credential stuffing',
    description: (s) => `the attacker's addresses × combo passwords (per address: ${mix(s)}), from a pool of ${s.proxyIps} residential-proxy IPv4 addresses, ${s.concurrency.stuffing} in flight`,
  },
  'low-and-slow': {
    title: 'Low-and-slow IPv6 rotation',
    description: (s) =>
      `one combo per address and per IPv6 address; half rotate inside ${s.hotPrefixes} /64s, half across /64s and /48s (each /64 once); ${s.concurrency['low-and-slow']} in flight`,
  },
  spraying: {
    title: 'Password spraying',
    description: (s) => `"${SPRAY_PASSWORD}" against every address on the attacker's list, ${s.accountsPerSprayIp} accounts per source IP, ${s.concurrency.spraying} in flight`,
  },
  'residential-proxy': {
    title: 'Residential proxies, one attempt per network',
    description: (s) => `combos (per address: ${mix(s)}), every attempt from another network: half IPv4, each in its own /24, half IPv6, each in its own /48; ${s.concurrency['residential-proxy']} in flight`,
  },
  paced: {
    title: 'Paced under every documented threshold',
    description: (s) => {
      const p = pacing();
      return (
        `combos, at most ${p.perAccount} per account; ${p.perIp} attempts per client address (each for another account), ${p.ipsPerSubnet} addresses per /24 — under half of the shield's default per-source and per-account limits, where velocity starts adding points; ` +
        `${p.backgroundPerAttempt} known-device logins of real users (each from another mobile address) with every attempt, so the attack is ${(p.attackShare * 100).toFixed(0)} % of logins; at most ${p.perWaveWindow} attempts, under the wave's minimum of ${defaults.wave.minFailures} a window; ${s.concurrency.paced} in flight`
      );
    },
  },
  'shared-address': {
    title: 'Attacker behind the same address as real users',
    description: (s) =>
      `combos (per address: ${mix(s)}), all from one IPv4 address (${SHARED_ADDRESS}, carrier-grade NAT or an office) that ${(s.sharedUserShare * 100).toFixed(0)} % of the legitimate users also log in from, new devices included; ${s.concurrency['shared-address']} in flight`,
  },
};

const BUILDERS: Record<ScenarioName, (rng: Rng, population: Population, sizes: PlanSizes) => Attempt[]> = {
  stuffing,
  'low-and-slow': lowAndSlow,
  spraying,
  'residential-proxy': residentialProxy,
  paced,
  'shared-address': sharedAddress,
};

/**
 * The busy exchange's own traffic: returning users on their known device, each login from
 * another mobile address (a phone changes address often), so no per-IP limit sees them pile up.
 */
function backgroundLogins(rng: Rng, enrolled: readonly BenchUser[], count: number) {
  const ips = ipv4Pool(rng, count, ROAMING_OCTETS);
  return ips.map((ip, i) => ({ user: enrolled[i % enrolled.length] as BenchUser, ip }));
}

export function buildPlan(name: ScenarioName, rng: Rng, population: Population, sizes: PlanSizes): Plan {
  const attempts = BUILDERS[name](rng, population, sizes);
  const shared = name === 'shared-address' ? SHARED_ADDRESS : undefined;
  const { title, description } = DESCRIPTIONS[name];
  const legit = legitimate(rng, population, sizes, attempts.length, shared);
  const backgroundPerAttempt = name === 'paced' ? pacing().backgroundPerAttempt : 0;
  return {
    name,
    title,
    description: description(sizes),
    attempts,
    concurrency: sizes.concurrency[name],
    backgroundPerAttempt,
    background: backgroundLogins(rng, legit.enrolled, attempts.length * backgroundPerAttempt),
    ...(shared ? { sharedAddress: shared } : {}),
    ...legit,
  };
}
