import type { ThroughputResult } from '../throughput.js';
import type { DecisionSummary, Protection } from './exchange.js';
import type { Mode } from './modes.js';
import type { LoginCounts, RunResult } from './run-scenario.js';
import type { Plan, ScenarioName } from './scenarios.js';

/** One scenario × protection × leak coverage, as written to results.json (the issue's fields first). */
export interface ScenarioRow extends RunResult {
  readonly name: ScenarioName;
  readonly protection: Protection;
  /** Share of the attacker's addresses in the list handed to the shield; `null` for a baseline (it never reads the list). */
  readonly coverage: number | null;
  readonly serverStartMs: number;
  readonly decisions?: DecisionSummary;
}

export interface Goal {
  readonly goal: string;
  readonly scenario: string;
  readonly measured: string;
  readonly met: boolean;
  /** What happened, for a missed goal: which requests, which signals. */
  readonly evidence?: string[];
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly mode: Mode['name'];
  readonly wallSeconds: number;
  readonly machine: { cpus: number; node: string; loadAverage: number[] };
  readonly coverages: readonly number[];
  /** Users without TOTP were seeded as such and stepped up with emailed codes (false: the example did not support it yet). */
  readonly emailFactor: boolean;
  readonly scenarios: ScenarioRow[];
  readonly throughput: ThroughputResult | null;
  readonly goals: Goal[];
  readonly plans: PlanSummary[];
}

export interface PlanSummary {
  readonly name: ScenarioName;
  readonly title: string;
  readonly description: string;
  readonly attempts: number;
  readonly validPairs: number;
  /** Valid pairs whose password is common / unique to the user. */
  readonly validCommon: number;
  readonly validUnique: number;
  readonly distinctIps: number;
  readonly legitimateUsers: number;
  /** Legitimate users whose address is on the attacker's list. */
  readonly legitimateTargeted: number;
  readonly legitimateEmailFactor: number;
  /** Legitimate users whose address is in the list handed to the shield, per coverage ("30 %": n). */
  readonly legitimateInShieldList: Record<string, number>;
  /** Legitimate users who log in from the attacker's address. */
  readonly legitimateBehindAttacker: number;
  readonly backgroundPerAttempt: number;
  readonly flows: Record<string, number>;
}

export const coverageText = (c: number | null) => (c === null ? 'any' : `${Math.round(c * 100)} %`);

export function summarisePlan(plan: Plan, lists: ReadonlyMap<number, ReadonlySet<string>>): PlanSummary {
  const flows: Record<string, number> = {};
  for (const f of plan.flows) flows[f.kind] = (flows[f.kind] ?? 0) + 1;
  const valid = plan.attempts.filter((a) => a.correct);
  return {
    name: plan.name,
    title: plan.title,
    description: plan.description,
    attempts: plan.attempts.length,
    validPairs: valid.length,
    validCommon: valid.filter((a) => a.reuse === 'common').length,
    validUnique: valid.filter((a) => a.reuse === 'unique').length,
    distinctIps: new Set(plan.attempts.map((a) => a.ip)).size,
    legitimateUsers: plan.enrolled.length,
    legitimateTargeted: plan.enrolled.filter((u) => u.targeted).length,
    legitimateEmailFactor: plan.enrolled.filter((u) => u.factor === 'email').length,
    legitimateInShieldList: Object.fromEntries([...lists].map(([c, list]) => [coverageText(c), plan.enrolled.filter((u) => list.has(u.email)).length])),
    legitimateBehindAttacker: plan.enrolled.filter((u) => plan.homes.get(u) === plan.sharedAddress).length,
    backgroundPerAttempt: plan.backgroundPerAttempt,
    flows,
  };
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '–');
const pctText = (n: number) => `${n.toFixed(1)} %`;

export const CHALLENGE_GOAL_PCT = 2;
export const THROUGHPUT_GOAL = 0.85;

function incidentsText(row: ScenarioRow, filter: (flow: string) => boolean): string[] {
  const groups = new Map<string, number>();
  for (const i of row.legit.incidents.filter((i) => filter(i.flow))) {
    const who =
      `${i.flow}${i.behindAttacker ? ' behind the attacker\'s address' : ''}, ${i.factor} factor, address ${i.targeted ? "on the attacker's list" : "not on the attacker's list"}` +
      `${i.reuse === 'none' ? '' : `, ${i.reuse} password on the combo list`}, ${i.attackerAttemptsOnAccount} attacker attempts on the account before`;
    const key = `${who}: ${i.answers}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${n} × ${k}`);
}

function decisionText(d: DecisionSummary | undefined, which: 'known' | 'victim' | 'allow'): string[] {
  if (!d) return [];
  if (which === 'known') return d.knownDeviceNotAllowed.slice(0, 6).map((k) => `server log: ${k.count} × ${k.action} on a known device — ${k.reasons}`);
  if (which === 'victim') return d.blocksWithoutSourceSignal.slice(0, 6).map((k) => `server log: ${k.count} × block without any source signal (ip/subnet/ipAccount/accountsPerIp) — ${k.reasons}`);
  const allow = d.signalsByAction.allow ?? {};
  return [`server log: ${d.actions.allow ?? 0} login decisions allowed; signals among them: ${JSON.stringify(allow)}`];
}

function takeoverText(row: ScenarioRow): string[] {
  const t = row.attack.takeoverDetails;
  const by = (f: (d: (typeof t)[number]) => boolean) => t.filter(f).length;
  return [
    `${by((d) => d.reuse === 'common')} with a common password, ${by((d) => d.reuse === 'unique')} with a unique one; ${by((d) => d.inShieldList)} on accounts whose address the shield's list held, ${by((d) => !d.inShieldList)} not`,
    ...t.slice(0, 6).map((d) => `token to the attacker at attempt #${d.atAttempt} (${d.sentBefore} attempts sent before it; ${d.reuse} password; address ${d.inShieldList ? 'in' : 'not in'} the shield's list)`),
    ...decisionText(row.decisions, 'allow'),
  ];
}

/** The shield's goals in its default posture, for every scenario and coverage. The adaptive posture is reported, not held to them. */
export function evaluateGoals(rows: readonly ScenarioRow[], throughput: ThroughputResult | null): Goal[] {
  const goals: Goal[] = [];
  for (const row of rows.filter((r) => r.protection === 'shield')) {
    const s = `${row.name} @ ${coverageText(row.coverage)} coverage`;
    const knownOk = row.legitChallengedPct <= CHALLENGE_GOAL_PCT;
    goals.push(
      { goal: '0 takeovers', scenario: s, measured: String(row.takeovers), met: row.takeovers === 0, evidence: row.takeovers === 0 ? undefined : takeoverText(row) },
      {
        goal: '0 validity leaks',
        scenario: s,
        measured: String(row.validityLeaks),
        met: row.validityLeaks === 0,
        evidence:
          row.validityLeaks === 0
            ? undefined
            : [`answers to right passwords: ${JSON.stringify(row.attack.correctShapes)}`, `answers to wrong passwords: ${JSON.stringify(row.attack.wrongShapes)}`],
      },
      {
        goal: `≤ ${CHALLENGE_GOAL_PCT} % of known-device legitimate logins challenged`,
        scenario: s,
        measured: `${pctText(row.legitChallengedPct)} (${row.legit.knownDeviceChallenged} of ${row.legit.knownDeviceLogins})`,
        met: knownOk,
        evidence: knownOk ? undefined : [...incidentsText(row, (f) => f === 'known-device' || f === 'typo' || f === 'after-attack'), ...decisionText(row.decisions, 'known')],
      },
      {
        goal: 'no legitimate login blocked',
        scenario: s,
        measured: `${pctText(row.legitBlockedPct)} (${row.legit.blocked})`,
        met: row.legit.blocked === 0,
        evidence: row.legit.blocked === 0 ? undefined : [...incidentsText(row, () => true), ...decisionText(row.decisions, 'victim')],
      },
      {
        goal: '0 legitimate users locked out',
        scenario: s,
        measured: `${row.legitLockedOut} of ${row.legit.enrolled}`,
        met: row.legitLockedOut === 0,
        evidence: row.legitLockedOut === 0 ? undefined : incidentsText(row, (f) => f === 'after-attack'),
      },
    );
    const bg = row.legit.background;
    if (bg.logins > 0) {
      const pctBg = (bg.challenged / bg.logins) * 100;
      goals.push({
        goal: `≤ ${CHALLENGE_GOAL_PCT} % of the busy exchange's returning logins challenged`,
        scenario: s,
        measured: `${pctText(pctBg)} (${bg.challenged} of ${bg.logins})`,
        met: pctBg <= CHALLENGE_GOAL_PCT,
        evidence: pctBg <= CHALLENGE_GOAL_PCT ? undefined : [...incidentsText(row, (f) => f === 'background'), ...decisionText(row.decisions, 'known')],
      });
    }
    if (row.truncated) {
      goals.push({ goal: 'scenario ran to its full budget', scenario: s, measured: `${row.attack.sent} of ${row.attack.planned} attempts`, met: false });
    }
  }
  if (throughput) {
    const o = throughput.decisionOverhead.find((d) => d.store === 'memory');
    // The goal is checked on both returning-user paths (usual address: the headline; a new
    // address on every request: the shield's worst case for them). First logins are reported only.
    for (const path of throughput.paths.filter((p) => p.name.startsWith('returning'))) {
      const met = path.memoryRatio >= THROUGHPUT_GOAL;
      goals.push({
        goal: `throughput ≥ ${THROUGHPUT_GOAL} × bare Express (memory store)`,
        scenario: `login route, ${path.name}`,
        measured: `${path.memoryRatio.toFixed(2)} × (${path.memoryRps.toFixed(0)} vs ${path.bareRps.toFixed(0)} req/s; per window ${spread(path.roundRatios.memory)})`,
        met,
        evidence: met
          ? undefined
          : [
              `the shield's own time per decision (in process, one request at a time, returning user): p50 ${o?.returning.p50ms.toFixed(3)} ms, p99 ${o?.returning.p99ms.toFixed(3)} ms — against ~${(1000 / path.bareRps).toFixed(3)} ms of server time per request for the whole bare route at saturation`,
              ...(path.redisRatio === null ? [] : [`on Redis: ${path.redisRatio.toFixed(2)} × (per window ${spread(path.roundRatios.redis)})`]),
            ],
      });
    }
  }
  return goals;
}

function spread(xs: readonly number[]): string {
  if (xs.length === 0) return '–';
  const [lo, hi] = [Math.min(...xs).toFixed(2), Math.max(...xs).toFixed(2)];
  return lo === hi ? lo : `${lo}–${hi}`;
}

const windows = (n: number, seconds: number) => `${n} window${n === 1 ? '' : 's'} of ${seconds} s`;

const COLUMNS = [
  'protection',
  'leak coverage',
  'takeovers',
  'validity leaks',
  'known-device challenged',
  'legit blocked',
  'locked out',
  'new devices stepped up',
  'p50 ms',
  'p99 ms',
  'attacker blocked',
  'attacker challenged',
];

function cells(r: ScenarioRow): string[] {
  return [
    r.protection,
    coverageText(r.coverage),
    String(r.takeovers),
    String(r.validityLeaks),
    pctText(r.legitChallengedPct),
    `${r.legit.blocked}`,
    `${r.legitLockedOut}`,
    r.legit.newDeviceLogins === 0 ? '– (none)' : `${pctText(r.newDeviceSteppedUpPct)} of ${r.legit.newDeviceLogins}`,
    ms(r.p50ms),
    ms(r.p99ms),
    `${r.attack.blocked}`,
    `${r.attack.challenged}`,
  ];
}

const countsText = (c: LoginCounts, gotIn = false) =>
  `${c.logins} (${gotIn ? `got in ${c.logins - c.failed}, ` : ''}stepped up ${c.challenged}, blocked ${c.blocked}${gotIn ? '' : `, failed ${c.failed}`})`;

/** What the table cannot hold: traffic behind the attacker's address, and the busy exchange's own logins. */
function rowNotes(rows: readonly ScenarioRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const who = `${r.protection} @ ${coverageText(r.coverage)}`;
    const b = r.legit.behindAttacker;
    if (b.knownDevice.logins + b.newDevice.logins > 0) {
      out.push(`${who} — behind the attacker's address: known-device logins ${countsText(b.knownDevice)}; new-device logins ${countsText(b.newDevice, true)} (not in "legit blocked")`);
    }
    if (r.legit.background.logins > 0) out.push(`${who} — returning users' logins sent with the attack: ${countsText(r.legit.background)}`);
  }
  return out;
}

function scenarioHeading(p: PlanSummary): string {
  const inList = Object.entries(p.legitimateInShieldList).map(([c, n]) => `${n} at ${c}`).join(', ');
  return (
    `${p.title} — ${p.description}. ${p.attempts} attempts (${p.validPairs} with a right password: ${p.validCommon} common, ${p.validUnique} unique) from ${p.distinctIps} addresses; ` +
    `${p.legitimateUsers} legitimate users (${p.legitimateTargeted} on the attacker's list; ${p.legitimateEmailFactor} with an emailed code instead of TOTP; in the shield's list: ${inList}` +
    `${p.legitimateBehindAttacker > 0 ? `; ${p.legitimateBehindAttacker} behind the attacker's address` : ''}) logging in during the attack (${Object.entries(p.flows).map(([k, n]) => `${n} ${k}`).join(', ')})` +
    `${p.backgroundPerAttempt > 0 ? `, ${p.backgroundPerAttempt} returning logins with every attempt,` : ''} and once more from their known device after it`
  );
}

export function consoleTables(results: BenchResults): string {
  const out: string[] = [];
  for (const plan of results.plans) {
    const rows = results.scenarios.filter((r) => r.name === plan.name);
    if (rows.length === 0) continue;
    const table = [COLUMNS, ...rows.map(cells)];
    const widths = COLUMNS.map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
    out.push('', `■ ${plan.name}: ${scenarioHeading(plan)}`);
    for (const [i, row] of table.entries()) {
      out.push(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  '));
      if (i === 0) out.push(widths.map((w) => '─'.repeat(w)).join('  '));
    }
    for (const note of rowNotes(rows)) out.push(`  ${note}`);
  }
  const t = results.throughput;
  if (t) {
    out.push('', '■ throughput (autocannon, login route, same run; ratios are what carries across machines)');
    for (const path of t.paths) {
      out.push(`  ${path.name}: ${path.variants.map((v) => `${v.name} ${v.rps.toFixed(0)} req/s`).join(' · ')} → shield/bare ${path.memoryRatio.toFixed(2)} (memory)${path.redisRatio === null ? '' : `, ${path.redisRatio.toFixed(2)} (redis)`}`);
    }
    out.push(`  example real login (scrypt): none ${t.exampleScrypt.noneRps.toFixed(1)} req/s · shield ${t.exampleScrypt.shieldRps.toFixed(1)} req/s → ${t.exampleScrypt.ratio.toFixed(2)}`);
    for (const o of t.decisionOverhead) out.push(`  decision overhead (${o.store}): returning p50 ${o.returning.p50ms.toFixed(3)} / p99 ${o.returning.p99ms.toFixed(3)} ms · first login p50 ${o.firstLogin.p50ms.toFixed(3)} / p99 ${o.firstLogin.p99ms.toFixed(3)} ms`);
    const worstBounded = Math.max(...t.zxcvbn.rows.map((r) => r.boundedMs));
    const worstRaw = t.zxcvbn.rows.reduce((a, r) => (r.rawMs !== null && r.rawMs > (a?.rawMs ?? -1) ? r : a), undefined as (typeof t.zxcvbn.rows)[number] | undefined);
    out.push(`  zxcvbn worst case: bounded ${worstBounded.toFixed(2)} ms · raw ${worstRaw?.rawMs?.toFixed(0)} ms (${worstRaw?.family}, ${worstRaw?.length} chars); stopped raw at ${t.zxcvbn.rawCapMs} ms: ${t.zxcvbn.rows.filter((r) => r.rawNote?.startsWith('stopped')).map((r) => `${r.length} chars of ${r.family}`).join(', ') || 'none'}`);
  }
  out.push('', '■ goals (shield)');
  for (const g of results.goals) out.push(`  ${g.met ? 'met   ' : 'MISSED'}  ${g.goal} — ${g.scenario}: ${g.measured}`);
  return out.join('\n');
}

function mdTable(header: readonly string[], rows: readonly (readonly string[])[], align: 'left' | 'right' = 'right'): string {
  const sep = header.map((_, i) => (i === 0 || align === 'left' ? '---' : '---:'));
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [header.map(cell), sep, ...rows.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function markdownReport(results: BenchResults): string {
  const t = results.throughput;
  const missed = results.goals.filter((g) => !g.met);
  const lines: string[] = [
    '# account-shield — attack simulation and performance report',
    '',
    `Generated by \`npm run bench${results.mode === 'quick' ? ' -- --quick' : ''}\` at ${results.generatedAt} (${results.mode} run, ${results.wallSeconds.toFixed(0)} s wall time) on ${results.machine.cpus} CPUs shared with other work (load average ${results.machine.loadAverage.map((l) => l.toFixed(1)).join(' / ')} at the end), Node ${results.machine.node}. ` +
      'Every count below comes from the HTTP answers the simulated clients received from the example exchange (`examples/exchange-server`), one fresh server process per scenario, protection and leak coverage. ' +
      `Leak coverages: ${results.coverages.map(coverageText).join(', ')} of the attacker's addresses in the list handed to the shield (\`LEAKED_ADDRESSES\`); the baselines never read that list and run once per scenario (coverage "any"). ` +
      `The goals hold for the shield's default posture (\`shield\`); \`shield-adaptive\` (\`SHIELD_POSTURE=adaptive\`) is reported beside it. ` +
      (results.emailFactor ? '' : 'The example did not yet accept users without a TOTP secret, so the users meant to step up with an emailed code used TOTP in this run. ') +
      'Absolute times on a shared 2-core machine are noisy: compare protections within a run, and read throughput as ratios.',
    '',
    '## Goals',
    '',
    mdTable(
      ['goal', 'scenario', 'measured', 'met'],
      results.goals.map((g) => [g.goal, g.scenario, g.measured, g.met ? 'yes' : '**no**']),
      'left',
    ),
    '',
  ];
  if (missed.length > 0) {
    lines.push('### Where the shield missed a goal', '');
    for (const g of missed) {
      lines.push(`- **${g.goal}** (${g.scenario}): ${g.measured}`);
      for (const e of g.evidence ?? []) lines.push(`  - ${e}`);
    }
    lines.push('');
  } else {
    lines.push('The shield met every goal in this run.', '');
  }
  lines.push('## Side by side', '', '![side-by-side chart: takeovers, validity leaks, attempts stopped, latency and throughput per protection](chart.png)', '', 'Vector version: [`chart.svg`](chart.svg). Redraw both from `results.json` without rerunning the bench: `npm run bench:chart`.', '');
  for (const plan of results.plans) {
    const rows = results.scenarios.filter((r) => r.name === plan.name);
    if (rows.length === 0) continue;
    lines.push(`### ${plan.title} (\`${plan.name}\`)`, '', scenarioHeading(plan), '', mdTable(COLUMNS, rows.map(cells)), '');
    const notes = rowNotes(rows);
    if (notes.length > 0) lines.push(...notes.map((n) => `- ${n}`), '');
    const truncated = rows.filter((r) => r.truncated);
    if (truncated.length > 0) lines.push(`Time cap reached (counts cover the attempts sent): ${truncated.map((r) => `${r.protection} @ ${coverageText(r.coverage)} ${r.attack.sent}/${r.attack.planned}`).join(', ')}.`, '');
  }
  lines.push(
    '## Definitions',
    '',
    "- **takeover**: the attacker received `200 {token}`. The attacker never knows a TOTP secret nor reads the owner's mail, so every token it gets was issued without a second factor.",
    "- **validity leak**: an attempt with the right password whose answer has a shape (status, `error` code, set of body keys, whether a device cookie came back) that no attempt with a wrong password got from the same protection in the same scenario. It is what a checker tool keys on: `none`'s 200 vs 401, or a limiter that answers 429 to wrong passwords only. A takeover is also a leak. Timing is not counted.",
    '- **leak coverage**: the share of the attacker\'s addresses (real accounts and others, each counted apart) in the list handed to the shield. The list also holds other dumps with some real users in them, at every coverage, so some legitimate users are "leaked" whatever the attacker holds.',
    '- **legitimate logins**: every login of a legitimate user after enrolment: those during the attack (returning users, users who mistype first on their known device or on a new one, users on a new device) and one per user from the known device after the attack. Enrolment logins (a first login, before the attack) are not counted. A user answers a step-up with TOTP, or with the newest code for their address in `GET /dev/outbox`; after any refusal (including `invalid_credentials` from the verify step) they retype the right password, three logins at most.',
    '- **known-device challenged**: share of legitimate logins from the device the user enrolled (including mistypes and the login after the attack) that were asked for a second factor. Goal ≤ 2 %. In `paced`, the returning users\' logins sent with the attack are counted apart (their own ≤ 2 % goal), so they do not dilute it.',
    '- **legit blocked**: legitimate logins (known and new devices, the busy exchange\'s included) that got a 429 at any step. Goal 0. New-device logins from the address the attacker shares are the one exception: to the shield they are the attacker\'s traffic; they are listed under the table.',
    '- **locked out**: legitimate users who, after the attack, cannot log in from their known device with the right password and their second factor: a 429 or a refusal. A user who could not get in during the attack but can after it is not locked out.',
    '- **new devices stepped up**: share of legitimate new-device logins asked for a second factor: what a strict posture costs real users (100 % by design in the default posture).',
    '- **p50 / p99**: client-side latency over every request of the scenario (enrolment, attack, legitimate logins, step-up answers, the logins after the attack) under the same closed-loop load; with scrypt at cost 2^14 on 2 cores it is dominated by queueing for the password hash, so a protection that refuses early is also faster.',
    '- **attacker blocked / challenged**: attacker requests answered 429 / `step_up_required`.',
    '',
    '## What was sent',
    '',
    'Users are seeded through `EXAMPLE_USERS` (scrypt, cost 2^14; a TOTP secret, or none for the accounts that step up with an emailed code); the leak list through `LEAKED_ADDRESSES`. ' +
      'The attacker\'s combo list pairs its addresses with passwords from other breaches: a real user\'s password where it leaked (a common one, from zxcvbn\'s frequency list, or one unique to the user), else half common passwords and half one-off ones. ' +
      'The traffic generator (`bench/lib/`) talks HTTP only, to 127.0.0.1, presenting client addresses in `X-Forwarded-For` (`TRUST_PROXY=loopback`). ' +
      'Every protection gets byte-identical traffic from a seeded generator, in the same order: before the attack every legitimate user logs in once from home and answers the challenge if asked (enrolling a device); ' +
      'during the attack legitimate logins start at fixed points of the attack (returning users with their device cookie, some mistyping first, some on a new device from a roaming network); after it, every legitimate user tries once more from the known device. ' +
      'The attack is a closed loop with a fixed number of requests in flight, a fixed request budget and a time cap. Time is compressed: the attack takes seconds to minutes instead of hours, which is favourable to per-window rate limits. ' +
      "The shield's server runs with `LOG_DECISIONS=1` (one line per decision, parsed for the evidence above), a small cost the baselines do not pay.",
    '',
  );
  for (const p of results.plans) {
    lines.push(`- \`${p.name}\`: ${p.description}; ${p.attempts} attempts, ${p.validPairs} valid pairs (${p.validCommon} common, ${p.validUnique} unique; ${((p.validPairs / Math.max(1, p.attempts)) * 100).toFixed(1)} %), ${p.distinctIps} distinct client addresses.`);
  }
  lines.push(
    '',
    'Baselines (`bench/exchange/baselines.ts`): `express-rate-limit` — 10 login attempts per IP (IPv6 grouped per /56) per 15 min; `rlf-recipe` — rate-limiter-flexible\'s documented login recipe, 100 failures per IP per day and 10 consecutive failures per user+IP. `shield` runs with its defaults and the leak list of the row\'s coverage; `shield-adaptive` the same with `SHIELD_POSTURE=adaptive`.',
    '',
  );
  if (t) {
    lines.push(
      '## Throughput and latency',
      '',
      `autocannon, ${t.connections} connections, ${windows(t.rounds, t.durationSec)} per variant in alternating order (A B C, C B A, …) against long-lived servers that were enrolled and warmed up first, each variant in its own process (\`bench/lib/login-server.ts\`): a bare Express login route doing the same cheap work (JSON body, field checks, user lookup, plain password compare, token or 401) vs the same route behind \`shield.login(...)\`. The password check is deliberately cheap so the shield's own cost shows; the example's scrypt login below is what an exchange actually runs.`,
      '',
    );
    const pathRows: string[][] = [];
    for (const path of t.paths) {
      for (const v of path.variants) {
        pathRows.push([
          path.name,
          v.name,
          v.rps.toFixed(0),
          (v.rps / path.bareRps).toFixed(2),
          v.p50ms.toFixed(1),
          v.p99ms.toFixed(1),
          v.runs.map((r) => (r.shieldActions ? JSON.stringify(r.shieldActions) : '–')).join(' '),
        ]);
      }
    }
    lines.push(mdTable(['path', 'variant', 'req/s', '× bare', 'p50 ms', 'p99 ms', 'shield decisions per window'], pathRows), '');
    lines.push(
      `Per-window ratios (shield ÷ the bare window next to it), showing the machine's noise: ${t.paths
        .map((p) => `${p.name} ${spread(p.roundRatios.memory)} (memory)${p.redisRps === null ? '' : `, ${spread(p.roundRatios.redis)} (redis)`}`)
        .join('; ')}.`,
      '',
    );
    for (const [i, p] of t.paths.entries()) {
      lines.push(`- ${p.name}${i === 0 ? ` (the headline; goal ≥ ${THROUGHPUT_GOAL})` : p.name.startsWith('returning') ? ` (goal ≥ ${THROUGHPUT_GOAL})` : ' (reported, no goal)'}: ${p.path}.`);
    }
    lines.push(
      '',
      `The example's real login (scrypt 2^14), \`PROTECTION=none\` vs \`shield\`, returning users from their usual address, 8 connections, ${windows(t.rounds, t.scryptDurationSec)} each, alternating: ${t.exampleScrypt.noneRps.toFixed(1)} vs ${t.exampleScrypt.shieldRps.toFixed(1)} req/s → **${t.exampleScrypt.ratio.toFixed(2)} ×** (per-window ratios ${spread(t.exampleScrypt.roundRatios)}, median ${t.exampleScrypt.medianRoundRatio.toFixed(2)}). ` +
        (t.exampleScrypt.medianRoundRatio >= 0.9
          ? 'The password hash (tens of milliseconds of CPU per login) dominates; the shield adds a fraction of a millisecond.'
          : 'That is more than the in-process decision overhead below explains; with a few dozen requests per second per window, read it together with the per-window spread.'),
      '',
      '### Decision overhead (in process)',
      '',
      "Each login decision's `elapsedMs` as the shield reports it, one request at a time (no queueing), `authenticate` being a Map lookup.",
      '',
      mdTable(
        ['store', 'path', 'decisions', 'p50 ms', 'p99 ms', 'mean ms', 'actions'],
        t.decisionOverhead.flatMap((o) => [
          [o.store, 'returning (known device)', String(o.returning.decisions), o.returning.p50ms.toFixed(3), o.returning.p99ms.toFixed(3), o.returning.meanMs.toFixed(3), JSON.stringify(o.returning.actions)],
          [o.store, 'first login (zxcvbn once)', String(o.firstLogin.decisions), o.firstLogin.p50ms.toFixed(3), o.firstLogin.p99ms.toFixed(3), o.firstLogin.meanMs.toFixed(3), JSON.stringify(o.firstLogin.actions)],
        ]),
      ),
      '',
      '### zxcvbn worst case',
      '',
      `The shield's \`passwordStrength\` (at most 20 characters, at most 4 distinct l33t-substitutable ones) against raw \`zxcvbn\` on the same input; raw runs in a worker stopped at ${t.zxcvbn.rawCapMs} ms, and longer inputs of a family are skipped once one took over half of that.`,
      '',
      mdTable(
        ['input', 'length', 'bounded ms', 'raw zxcvbn ms'],
        t.zxcvbn.rows.map((r) => [r.family, String(r.length), r.boundedMs.toFixed(2), r.rawMs === null ? `– (${r.rawNote})` : r.rawMs.toFixed(1)]),
      ),
      '',
    );
    for (const n of t.notes) lines.push(`Note: ${n}`, '');
  }
  lines.push('Raw numbers: [`results.json`](results.json). How to run and read this: [`README.md`](README.md).', '');
  return lines.join('\n');
}

export function jsonResults(results: BenchResults): unknown {
  return {
    generatedAt: results.generatedAt,
    mode: results.mode,
    wallSeconds: r1(results.wallSeconds),
    machine: results.machine,
    coverages: results.coverages,
    emailFactor: results.emailFactor,
    scenarios: results.scenarios.map((r) => ({
      name: r.name,
      protection: r.protection,
      coverage: r.coverage,
      takeovers: r.takeovers,
      validityLeaks: r.validityLeaks,
      legitChallengedPct: r2(r.legitChallengedPct),
      legitBlockedPct: r2(r.legitBlockedPct),
      legitLockedOut: r.legitLockedOut,
      newDeviceSteppedUpPct: r2(r.newDeviceSteppedUpPct),
      p50ms: r1(r.p50ms),
      p99ms: r1(r.p99ms),
      requests: r.requests,
      seconds: r1(r.seconds),
      truncated: r.truncated,
      serverStartMs: Math.round(r.serverStartMs),
      attack: { ...r.attack, takeoverDetails: r.attack.takeoverDetails.slice(0, 50) },
      legit: { ...r.legit, p50ms: r1(r.legit.p50ms), p99ms: r1(r.legit.p99ms), incidents: r.legit.incidents.slice(0, 50) },
      ...(r.decisions ? { decisions: r.decisions } : {}),
    })),
    throughput: results.throughput,
    goals: results.goals,
    plans: results.plans,
  };
}
