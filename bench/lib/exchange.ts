import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSeedUsers } from '../../examples/exchange-server/users.js';
import { type Population, shieldLeakList } from './population.js';
import type { CodeReader } from './run-scenario.js';
import { type ServerProcess, startServer } from './processes.js';

/**
 * The protections the bench compares: `npm run example`'s PROTECTION values, and the shield once more
 * in its opt-in adaptive posture (SHIELD_POSTURE=adaptive), as its own rows.
 */
export const PROTECTIONS = ['none', 'express-rate-limit', 'rlf-recipe', 'shield', 'shield-adaptive'] as const;
export type Protection = (typeof PROTECTIONS)[number];

/** Only the shield reads LEAKED_ADDRESSES: the baselines' results do not depend on leak coverage. */
export const readsLeakList = (p: Protection) => p === 'shield' || p === 'shield-adaptive';

/** `npm run example`'s entry: the example exchange with the guards PROTECTION names. */
const MAIN = 'bench/exchange/launcher.ts';
const READY = /\[exchange\] listening on :(\d+)/;

/** EXAMPLE_USERS and the LEAKED_ADDRESSES of every coverage of a run, written once to a private temporary directory. */
export interface Seed {
  readonly usersFile: string;
  /** The list handed to the shield, per leak coverage. */
  readonly leakFiles: ReadonlyMap<number, string>;
  readonly users: number;
  /** Users with `factor: 'email'` were seeded without a TOTP secret (the example sends them codes). */
  readonly emailFactor: boolean;
  remove(): Promise<void>;
}

/**
 * Whether the example accepts EXAMPLE_USERS entries without `totpSecret` (accounts that step
 * up with an emailed code). When it does not, those users are seeded with TOTP like the rest.
 */
export function exampleTakesEmailOnlyUsers(): boolean {
  try {
    parseSeedUsers([{ email: 'probe@bench.example', password: 'probe-password-1' }]);
    return true;
  } catch {
    return false;
  }
}

export async function writeSeed(population: Population, coverages: readonly number[]): Promise<Seed> {
  const dir = await mkdtemp(join(tmpdir(), 'account-shield-bench-'));
  const usersFile = join(dir, 'users.json');
  const emailFactor = exampleTakesEmailOnlyUsers();
  const users = population.users.map(({ email, password, totpSecret, factor }) =>
    emailFactor && factor === 'email' ? { email, password } : { email, password, totpSecret },
  );
  await writeFile(usersFile, JSON.stringify(users), { mode: 0o600 });
  const leakFiles = new Map<number, string>();
  for (const coverage of new Set([0, ...coverages])) {
    const file = join(dir, `leaked-${Math.round(coverage * 100)}.txt`);
    await writeFile(file, `${shieldLeakList(population, coverage).join('\n')}\n`, { mode: 0o600 });
    leakFiles.set(coverage, file);
  }
  return { usersFile, leakFiles, users: users.length, emailFactor, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ExchangeProcess extends ServerProcess {
  readonly protection: Protection;
  /** Milliseconds from spawn to the listening line (includes hashing the seed users). */
  readonly startMs: number;
}

/**
 * A fresh example server (its own process, embedded store, nothing carried over from another
 * run), handed the leak list of `coverage`. The shield logs one line per decision so a missed
 * goal can be explained by signal.
 */
export async function startExchange(protection: Protection, seed: Seed, coverage = 0, extraEnv: Record<string, string> = {}): Promise<ExchangeProcess> {
  const started = performance.now();
  const shield = readsLeakList(protection);
  const leakFile = seed.leakFiles.get(coverage);
  if (!leakFile) throw new Error(`no leak list written for coverage ${coverage}`);
  const server = await startServer({
    args: ['--import', 'tsx', MAIN],
    env: {
      PORT: '0',
      PROTECTION: shield ? 'shield' : protection,
      SHIELD_POSTURE: protection === 'shield-adaptive' ? 'adaptive' : '',
      TRUST_PROXY: 'loopback',
      SHIELD_SECRET: randomBytes(32).toString('base64url'),
      EXAMPLE_USERS: seed.usersFile,
      LEAKED_ADDRESSES: leakFile,
      REDIS_URL: '',
      LOG_DECISIONS: shield ? '1' : '0',
      ...extraEnv,
    },
    ready: READY,
    timeoutMs: 180_000,
    keepStdout: shield,
  });
  return { ...server, protection, startMs: performance.now() - started };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The newest code the example "emailed" to an address since a moment, read over HTTP from
 * `GET /dev/outbox` as a user reads their mailbox. `undefined` when the route does not exist
 * (the client then answers with TOTP) or no such mail arrived.
 */
export function outboxReader(port: number): CodeReader {
  let missing = false;
  return async (email, sentSince) => {
    const wanted = email.toLowerCase();
    for (let poll = 0; poll < 5 && !missing; poll++) {
      const res = await fetch(`http://127.0.0.1:${port}/dev/outbox`);
      if (res.status === 404) missing = true;
      if (!res.ok) return undefined;
      const mails = (await res.json()) as { to: string; code: string; at: string }[];
      const hit = mails.filter((m) => m.to.toLowerCase() === wanted && Date.parse(m.at) >= sentSince).at(-1);
      if (hit) return hit.code;
      await sleep(20);
    }
    return undefined;
  };
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
