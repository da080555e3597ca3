import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Population } from './population.js';
import { type ServerProcess, startServer } from './processes.js';

/** The example exchange's login protections, as PROTECTION selects them. */
export const PROTECTIONS = ['none', 'express-rate-limit', 'rlf-recipe', 'shield'] as const;
export type Protection = (typeof PROTECTIONS)[number];

const MAIN = 'examples/exchange-server/main.ts';
const READY = /\[exchange\] listening on :(\d+)/;

/** EXAMPLE_USERS and LEAKED_ADDRESSES of a run, written once to a private temporary directory. */
export interface Seed {
  readonly usersFile: string;
  readonly leakFile: string;
  readonly users: number;
  remove(): Promise<void>;
}

export async function writeSeed(population: Population): Promise<Seed> {
  const dir = await mkdtemp(join(tmpdir(), 'account-shield-bench-'));
  const usersFile = join(dir, 'users.json');
  const leakFile = join(dir, 'leaked.txt');
  const users = population.users.map(({ email, password, totpSecret }) => ({ email, password, totpSecret }));
  await writeFile(usersFile, JSON.stringify(users), { mode: 0o600 });
  await writeFile(leakFile, `${population.leakList.join('\n')}\n`, { mode: 0o600 });
  return { usersFile, leakFile, users: users.length, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ExchangeProcess extends ServerProcess {
  readonly protection: Protection;
  /** Milliseconds from spawn to the listening line (includes hashing the seed users). */
  readonly startMs: number;
}

/**
 * A fresh example server (its own process, embedded store, nothing carried over from another
 * run). The shield logs one line per decision so a missed goal can be explained by signal.
 */
export async function startExchange(protection: Protection, seed: Seed, extraEnv: Record<string, string> = {}): Promise<ExchangeProcess> {
  const started = performance.now();
  const server = await startServer({
    args: ['--import', 'tsx', MAIN],
    env: {
      PORT: '0',
      PROTECTION: protection,
      TRUST_PROXY: 'loopback',
      SHIELD_SECRET: randomBytes(32).toString('base64url'),
      EXAMPLE_USERS: seed.usersFile,
      LEAKED_ADDRESSES: seed.leakFile,
      REDIS_URL: '',
      LOG_DECISIONS: protection === 'shield' ? '1' : '0',
      ...extraEnv,
    },
    ready: READY,
    timeoutMs: 180_000,
    keepStdout: protection === 'shield',
  });
  return { ...server, protection, startMs: performance.now() - started };
}

/** One `[decision]` line of the example's LOG_DECISIONS output. */
export interface LoggedDecision {
  readonly route: string;
  readonly action: string;
  readonly score: number;
  readonly outcome: string;
  readonly reasons: readonly { signal: string; points: number }[];
}

const LINE = /^\[decision\] (\S+) (\w+)(?: \(monitor\))? score=(-?\d+) outcome=(\S+) ?(.*)$/;

export function parseDecisions(stdout: string): LoggedDecision[] {
  const out: LoggedDecision[] = [];
  for (const line of stdout.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const reasons = (m[5] ?? '')
      .split(' ')
      .filter(Boolean)
      .map((token) => {
        const r = /^(.*?)([+-]\d+)$/.exec(token);
        return r ? { signal: r[1] as string, points: Number(r[2]) } : { signal: token, points: 0 };
      });
    out.push({ route: m[1] as string, action: m[2] as string, score: Number(m[3]), outcome: m[4] as string, reasons });
  }
  return out;
}

/** Signals that describe the *source* of an attempt; a block without any of them falls on the account. */
const SOURCE_SIGNALS = new Set(['velocity.ip', 'velocity.subnet', 'velocity.ipAccount', 'velocity.accountsPerIp']);

export interface DecisionSummary {
  /** Login decisions by action. */
  readonly actions: Record<string, number>;
  /** How often each signal contributed to a login decision, by action. */
  readonly signalsByAction: Record<string, Record<string, number>>;
  /** Known-device logins that were not simply allowed, by reason set: these can only be legitimate users. */
  readonly knownDeviceNotAllowed: { reasons: string; action: string; count: number }[];
  /** Blocks with no source signal (only account-side and context signals): they can hit the account's owner. */
  readonly blocksWithoutSourceSignal: { reasons: string; count: number }[];
}

export function summariseDecisions(decisions: readonly LoggedDecision[]): DecisionSummary {
  const actions: Record<string, number> = {};
  const signalsByAction: Record<string, Record<string, number>> = {};
  const known = new Map<string, { reasons: string; action: string; count: number }>();
  const victim = new Map<string, { reasons: string; count: number }>();
  for (const d of decisions) {
    if (d.route !== '/auth/login') continue;
    actions[d.action] = (actions[d.action] ?? 0) + 1;
    const bySignal = signalsByAction[d.action] ?? {};
    signalsByAction[d.action] = bySignal;
    for (const r of d.reasons) bySignal[r.signal] = (bySignal[r.signal] ?? 0) + 1;
    const reasons = d.reasons.map((r) => `${r.signal}${r.points >= 0 ? '+' : ''}${r.points}`).join(' ');
    if (d.action !== 'allow' && d.reasons.some((r) => r.signal === 'device.known')) {
      const key = `${d.action}|${reasons}`;
      const entry = known.get(key) ?? { reasons, action: d.action, count: 0 };
      entry.count++;
      known.set(key, entry);
    }
    if (d.action === 'block' && !d.reasons.some((r) => SOURCE_SIGNALS.has(r.signal))) {
      const entry = victim.get(reasons) ?? { reasons, count: 0 };
      entry.count++;
      victim.set(reasons, entry);
    }
  }
  const byCount = <T extends { count: number }>(m: Map<string, T>) => [...m.values()].sort((a, b) => b.count - a.count);
  return { actions, signalsByAction, knownDeviceNotAllowed: byCount(known), blocksWithoutSourceSignal: byCount(victim) };
}
