import type { ResolvedConfig, VelocityOptions, VelocityRule } from '../config/config.js';
import type { CounterRef, CounterSpec, CounterValue } from '../stores/store.js';
import type { Reason } from '../engine/decision.js';
import type { Signal } from './signal.js';

/** Counter family names as stored (key prefixes); changing one orphans existing counters. */
export const family = {
  ip: 'fail_ip',
  subnet: 'fail_net',
  site: 'fail_site',
  listedPasswords: 'listed_ip',
  ipAccount: 'fail_ipacct',
  accountsPerIp: 'accts_ip',
  account: 'fail_acct',
  /** Wave evidence per time bucket: failures from unknown devices, attempts on missing accounts. */
  evidence: 'wave_ev',
  /** Wrong codes on challenges that followed a right password (per account). */
  secondFactor: 'fail_2fa',
  /** Wrong codes on challenges that followed a wrong password (per account and source: the typo path). */
  secondFactorDoomed: 'fail_2fa_x',
} as const;

type RuleName = keyof VelocityOptions;

/** Families that describe where attempts come from (blockable), as opposed to whom they target. */
const SOURCE_RULES: ReadonlySet<RuleName> = new Set(['ip', 'subnet', 'site', 'listedPasswords', 'ipAccount', 'accountsPerIp']);

/**
 * What a known device is scored on: only evidence against this account from where it stands.
 * Everything else a source did was done by someone else on the same address (an office, a
 * carrier-grade NAT), and must not fall on the owner's device.
 */
const KNOWN_DEVICE_RULES: ReadonlySet<RuleName> = new Set(['ipAccount']);

const describe: Record<RuleName, string> = {
  ip: 'failed logins from this IP',
  subnet: 'failed logins from this subnet',
  site: 'failed logins from this IPv6 /48',
  listedPasswords: 'attempts with common or breached passwords from this IP',
  ipAccount: 'failed logins for this account from this IP',
  accountsPerIp: 'distinct accounts failing from this IP',
  account: 'failed logins for this account',
};

/** Every rule, in the order reasons are listed (computed once: this runs on every attempt). */
const RULE_NAMES = Object.keys(describe) as RuleName[];

export interface VelocityIds {
  readonly ip: string;
  readonly subnet: string;
  /** IPv6 /48; absent for IPv4. */
  readonly site?: string;
  readonly account: string;
}

export type CounterSpecs = Record<keyof typeof family, CounterSpec>;

/** The counter specs a configuration implies, by family. */
export function counterSpecs(config: ResolvedConfig): CounterSpecs {
  const spec = (name: string, rule: Pick<VelocityRule, 'limit' | 'windowSec'>): CounterSpec => ({
    name,
    points: rule.limit,
    durationSec: rule.windowSec,
  });
  const v = config.velocity;
  return {
    ip: spec(family.ip, v.ip),
    subnet: spec(family.subnet, v.subnet),
    site: spec(family.site, v.site),
    listedPasswords: spec(family.listedPasswords, v.listedPasswords),
    ipAccount: spec(family.ipAccount, v.ipAccount),
    accountsPerIp: spec(family.accountsPerIp, v.accountsPerIp),
    account: spec(family.account, v.account),
    // A bucket must outlive the next one, which reads it as "the previous bucket".
    evidence: spec(family.evidence, { limit: config.wave.minFailures, windowSec: config.wave.windowSec * 2 }),
    secondFactor: spec(family.secondFactor, config.secondFactor),
    secondFactorDoomed: spec(family.secondFactorDoomed, config.secondFactor),
  };
}

/** The counters one login decision reads, by name: increments and refunds say which they mean. */
export interface VelocityRefs {
  readonly ip: CounterRef;
  readonly subnet: CounterRef;
  readonly site: CounterRef | undefined;
  readonly listedPasswords: CounterRef;
  readonly ipAccount: CounterRef;
  readonly accountsPerIp: CounterRef;
  readonly account: CounterRef;
  readonly evidence: CounterRef;
  readonly evidencePrevious: CounterRef;
}

export type VelocityRefName = keyof VelocityRefs;

/** The time bucket the wave counters of `now` fall in. */
export function waveBucket(now: number, config: ResolvedConfig): number {
  return Math.floor(now / (config.wave.windowSec * 1000));
}

/** The refs that depend on the source alone. */
export type SourceRefs = Pick<VelocityRefs, 'ip' | 'subnet' | 'site' | 'listedPasswords' | 'accountsPerIp'>;
/** The refs of one time bucket of the wave. */
export type BucketRefs = Pick<VelocityRefs, 'evidence' | 'evidencePrevious'>;

export function sourceRefs(specs: CounterSpecs, ids: Omit<VelocityIds, 'account'>): SourceRefs {
  return {
    ip: { spec: specs.ip, key: ids.ip },
    subnet: { spec: specs.subnet, key: ids.subnet },
    site: ids.site === undefined ? undefined : { spec: specs.site, key: ids.site },
    listedPasswords: { spec: specs.listedPasswords, key: ids.ip },
    accountsPerIp: { spec: specs.accountsPerIp, key: ids.ip },
  };
}

/** Keys that involve the account carry it as a hash tag. */
export function accountRef(specs: CounterSpecs, account: string): CounterRef {
  return { spec: specs.account, key: `{${account}}` };
}

export function ipAccountRef(specs: CounterSpecs, account: string, ip: string): CounterRef {
  return { spec: specs.ipAccount, key: `{${account}}:${ip}` };
}

/** The wave's evidence is global, one key per time bucket, so the previous bucket can be read whole. */
export function bucketRefs(specs: CounterSpecs, bucket: number): BucketRefs {
  return {
    evidence: { spec: specs.evidence, key: `all:${bucket}` },
    evidencePrevious: { spec: specs.evidence, key: `all:${bucket - 1}` },
  };
}

/** Every counter one decision reads, from its parts (`engine/read-plan.ts` builds a read from the same parts). */
export function velocityRefs(specs: CounterSpecs, ids: VelocityIds, bucket: number): VelocityRefs {
  return composeRefs(sourceRefs(specs, ids), accountRef(specs, ids.account), ipAccountRef(specs, ids.account, ids.ip), bucketRefs(specs, bucket));
}

export function composeRefs(source: SourceRefs, account: CounterRef, ipAccount: CounterRef, bucket: BucketRefs): VelocityRefs {
  return {
    ip: source.ip,
    subnet: source.subnet,
    site: source.site,
    listedPasswords: source.listedPasswords,
    ipAccount,
    accountsPerIp: source.accountsPerIp,
    account,
    evidence: bucket.evidence,
    evidencePrevious: bucket.evidencePrevious,
  };
}

/** The order refs are read in; a decision without a site (IPv4) skips it. */
const REF_ORDER: readonly VelocityRefName[] = ['ip', 'subnet', 'site', 'listedPasswords', 'ipAccount', 'accountsPerIp', 'account', 'evidence', 'evidencePrevious'];
const NAMES_WITHOUT_SITE = REF_ORDER.filter((name) => name !== 'site');

/** The refs as a list for one store read, with the name of each position (a shared list: do not change it). */
export function refList(refs: VelocityRefs): { names: readonly VelocityRefName[]; list: CounterRef[] } {
  const names = refs.site === undefined ? NAMES_WITHOUT_SITE : REF_ORDER;
  const list: CounterRef[] = [];
  for (const name of names) list.push(refs[name] as CounterRef);
  return { names, list };
}

/** The counters a decision read, by name (a `Map` is one; the engine's reading is another). */
export interface CounterValues {
  get(name: VelocityRefName): CounterValue | undefined;
}

/**
 * Reaching a rule's limit adds its points; reaching half of it adds half, as an early warning.
 * A known device is scored only on failures for its own account from its own address, and
 * never on a source reason: it cannot be blocked because others share its address.
 */
export const velocitySignal: Signal = ({ counters, config, deviceKnown }) => {
  const reasons: Reason[] = [];
  const texts = ruleTexts(config.velocity);
  for (const name of RULE_NAMES) {
    if (deviceKnown && !KNOWN_DEVICE_RULES.has(name)) continue;
    const rule = config.velocity[name];
    const consumed = counters.get(name)?.consumed ?? 0;
    const half = Math.ceil(rule.limit / 2);
    if (consumed < half || rule.points === 0) continue;
    const points = consumed >= rule.limit ? rule.points : Math.round(rule.points / 2);
    const signal = SIGNAL_NAMES[name];
    const detail = `${consumed}${texts[name]}`;
    // Two literals, not a spread (see runtime/hidden-classes.ts).
    reasons.push(SOURCE_RULES.has(name) && !deviceKnown ? { signal, points, detail, source: true } : { signal, points, detail });
  }
  return reasons;
};

/** Each rule's reason name, made once (a source over its limit lists several on every attempt). */
const SIGNAL_NAMES = Object.fromEntries(RULE_NAMES.map((name) => [name, `velocity.${name}`])) as Record<RuleName, string>;

/** The text after the count in each rule's reason (` failed logins from this IP in 15 min (limit 20)`), per configuration. */
const textsByOptions = new WeakMap<VelocityOptions, Record<RuleName, string>>();

function ruleTexts(options: VelocityOptions): Record<RuleName, string> {
  let texts = textsByOptions.get(options);
  if (texts === undefined) {
    texts = Object.fromEntries(
      RULE_NAMES.map((name) => [name, ` ${describe[name]} in ${formatWindow(options[name].windowSec)} (limit ${options[name].limit})`]),
    ) as Record<RuleName, string>;
    textsByOptions.set(options, texts);
  }
  return texts;
}

/**
 * How long a blocked source should wait: until the latest window that reached its limit
 * resets, or, when only half-way counters added up to a block, the latest of those.
 */
export function retryAfterMs(counters: CounterValues, config: ResolvedConfig): number {
  let full = 0;
  let half = 0;
  for (const name of SOURCE_RULES) {
    const value = counters.get(name);
    if (!value) continue;
    const limit = config.velocity[name].limit;
    if (value.consumed >= limit) full = Math.max(full, value.msBeforeNext);
    else if (value.consumed >= Math.ceil(limit / 2)) half = Math.max(half, value.msBeforeNext);
  }
  const wait = full || half;
  return wait > 0 ? wait : 60_000;
}

function formatWindow(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
