import type { ResolvedConfig, VelocityOptions, VelocityRule } from '../config.js';
import type { CounterRef, CounterSpec, CounterValue } from '../stores/store.js';
import type { Reason } from '../types.js';
import type { Signal } from './signal.js';

/** Counter family names as stored (key prefixes); changing one orphans existing counters. */
export const family = {
  ip: 'fail_ip',
  subnet: 'fail_net',
  ipAccount: 'fail_ipacct',
  accountsPerIp: 'accts_ip',
  account: 'fail_acct',
  attempts: 'att_all',
  failures: 'fail_all',
  /** Wrong second-factor codes per account. */
  secondFactor: 'fail_2fa',
} as const;

type RuleName = keyof VelocityOptions;

/** Families that describe where attempts come from (blockable), as opposed to whom they target. */
const SOURCE_RULES: ReadonlySet<RuleName> = new Set(['ip', 'subnet', 'ipAccount', 'accountsPerIp']);

const describe: Record<RuleName, string> = {
  ip: 'failed logins from this IP',
  subnet: 'failed logins from this subnet',
  ipAccount: 'failed logins for this account from this IP',
  accountsPerIp: 'distinct accounts failing from this IP',
  account: 'failed logins for this account',
};

export interface VelocityIds {
  readonly ip: string;
  readonly subnet: string;
  readonly account: string;
}

/** The counter specs a configuration implies, by family name. */
export function counterSpecs(config: ResolvedConfig): Record<keyof typeof family, CounterSpec> {
  const spec = (name: string, rule: Pick<VelocityRule, 'limit' | 'windowSec'>): CounterSpec => ({
    name,
    points: rule.limit,
    durationSec: rule.windowSec,
  });
  const v = config.velocity;
  const wave = { limit: config.wave.minFailures, windowSec: config.wave.windowSec };
  return {
    ip: spec(family.ip, v.ip),
    subnet: spec(family.subnet, v.subnet),
    ipAccount: spec(family.ipAccount, v.ipAccount),
    accountsPerIp: spec(family.accountsPerIp, v.accountsPerIp),
    account: spec(family.account, v.account),
    attempts: spec(family.attempts, wave),
    failures: spec(family.failures, wave),
    secondFactor: spec(family.secondFactor, config.secondFactor),
  };
}

/**
 * The counters one login decision reads. Keys that involve the account carry it as a hash
 * tag; global counters use a single fixed key.
 */
export function velocityRefs(specs: ReturnType<typeof counterSpecs>, ids: VelocityIds): CounterRef[] {
  const pairKey = `{${ids.account}}:${ids.ip}`;
  return [
    { spec: specs.ip, key: ids.ip },
    { spec: specs.subnet, key: ids.subnet },
    { spec: specs.ipAccount, key: pairKey },
    { spec: specs.accountsPerIp, key: ids.ip },
    { spec: specs.account, key: `{${ids.account}}` },
    { spec: specs.attempts, key: 'all' },
    { spec: specs.failures, key: 'all' },
  ];
}

/**
 * Reaching a rule's limit adds its points; reaching half of it adds half, as an early warning.
 * Failures against the account say the account is under attack, not that this device is the
 * attacker: they raise risk for devices the account has not used, never for its known ones.
 */
export const velocitySignal: Signal = ({ counters, config, deviceKnown }) => {
  const reasons: Reason[] = [];
  for (const name of Object.keys(describe) as RuleName[]) {
    if (name === 'account' && deviceKnown) continue;
    const rule = config.velocity[name];
    const consumed = counters.get(family[name])?.consumed ?? 0;
    const half = Math.ceil(rule.limit / 2);
    if (consumed < half || rule.points === 0) continue;
    const points = consumed >= rule.limit ? rule.points : Math.round(rule.points / 2);
    reasons.push({
      signal: `velocity.${name}`,
      points,
      detail: `${consumed} ${describe[name]} in ${formatWindow(rule.windowSec)} (limit ${rule.limit})`,
      ...(SOURCE_RULES.has(name) ? { source: true } : {}),
    });
  }
  return reasons;
};

/**
 * How long a blocked source should wait: until the latest window that reached its limit
 * resets, or, when only half-way counters added up to a block, the latest of those.
 */
export function retryAfterMs(counters: ReadonlyMap<string, CounterValue>, config: ResolvedConfig): number {
  let full = 0;
  let half = 0;
  for (const name of Object.keys(describe) as RuleName[]) {
    const value = counters.get(family[name]);
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
