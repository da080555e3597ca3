/**
 * `npm run bench [-- --quick]`: the same credential-stuffing traffic, in one run, against the
 * example exchange with no protection, with the two defences people use today, and with the
 * shield; then what the shield costs per request. Prints a table per scenario and writes
 * bench/results.json, bench/REPORT.md and bench/chart.svg (+ chart.png).
 *
 *   --quick              CI smoke: small budgets, under two minutes in all
 *   --strict             exit 1 when the shield misses a goal (default: 0 once the run completed)
 *   --scenarios a,b      stuffing, low-and-slow, spraying, residential-proxy, paced, shared-address (default all)
 *   --protections a,b    none, express-rate-limit, rlf-recipe, shield, shield-adaptive (default all)
 *   --coverages a,b      leak coverages in % (default 100,30,0; --quick: 0)
 *   --no-throughput      skip the throughput, overhead and zxcvbn measurements
 *   --out DIR            where to write the results (default bench/)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { readResults } from './lib/results-file.js';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeChart } from './lib/chart.js';
import {
  type ExchangeProcess,
  outboxReader,
  PROTECTIONS,
  type Protection,
  parseDecisions,
  readsLeakList,
  startExchange,
  summariseDecisions,
  writeSeed,
} from './lib/exchange.js';
import { Target } from './lib/http.js';
import { FULL, type Mode, QUICK } from './lib/modes.js';
import { buildPopulation, shieldLeakList } from './lib/population.js';
import {
  type BenchResults,
  consoleTables,
  coverageText,
  evaluateGoals,
  jsonResults,
  markdownReport,
  type ScenarioRow,
  summarisePlan,
} from './lib/report.js';
import { Rng } from './lib/rng.js';
import { runPlan } from './lib/run-scenario.js';
import { buildPlan, type Plan, SCENARIOS, type ScenarioName } from './lib/scenarios.js';
import { runThroughput, type ThroughputResult } from './throughput.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
function option(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}
function list<T extends string>(name: string, all: readonly T[]): T[] {
  const value = option(name);
  if (!value) return [...all];
  const chosen = value.split(',').map((s) => s.trim());
  for (const c of chosen) if (!(all as readonly string[]).includes(c)) throw new Error(`--${name}: unknown "${c}"; use ${all.join(', ')}`);
  return chosen as T[];
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Each scenario runs the protections in a rotated order, so machine drift does not always hit the same one. */
function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

interface Job {
  readonly plan: Plan;
  readonly protection: Protection;
  /** Leak coverage; `null` for a baseline, which never reads the list (run once per scenario). */
  readonly coverage: number | null;
}

function jobs(plans: readonly Plan[], protections: readonly Protection[], coverages: readonly number[]): Job[] {
  return plans.flatMap((plan, k) =>
    rotated(protections, k).flatMap((protection): Job[] =>
      readsLeakList(protection) ? coverages.map((coverage) => ({ plan, protection, coverage })) : [{ plan, protection, coverage: null }],
    ),
  );
}

async function runScenarios(mode: Mode, scenarios: readonly ScenarioName[], protections: readonly Protection[], coverages: readonly number[]) {
  const population = buildPopulation(new Rng(mode.seed), mode.population);
  const plans: Plan[] = SCENARIOS.map((name, i) => buildPlan(name, new Rng(mode.seed + 7919 * (i + 1)), population, mode.sizes)).filter((p) => scenarios.includes(p.name));
  const seed = await writeSeed(population, coverages);
  if (!seed.emailFactor) log('the example does not take users without a TOTP secret yet: email-code users are seeded with TOTP');
  const lists = new Map(coverages.map((c) => [c, new Set(shieldLeakList(population, c))]));
  const todo = jobs(plans, protections, coverages);
  const rows: ScenarioRow[] = [];
  const start = (job: Job) => startExchange(job.protection, seed, job.coverage ?? 0);
  // The next server starts (hashing its seed users) while the current run goes on: starts are most of a short run.
  let upcoming: Promise<ExchangeProcess> | undefined = todo[0] ? start(todo[0]) : undefined;
  try {
    for (const [i, job] of todo.entries()) {
      const server = await (upcoming as Promise<ExchangeProcess>);
      upcoming = todo[i + 1] ? start(todo[i + 1] as Job) : undefined;
      const target = new Target(server.port, job.plan.concurrency * (1 + job.plan.backgroundPerAttempt) + 16);
      let result: Awaited<ReturnType<typeof runPlan>>;
      try {
        result = await runPlan(target, job.plan, {
          timeCapMs: mode.timeCapMs,
          emailCodes: seed.emailFactor ? outboxReader(server.port) : undefined,
          shieldList: job.coverage === null ? undefined : lists.get(job.coverage),
        });
      } finally {
        target.close();
        await server.stop();
      }
      const decisions = readsLeakList(job.protection) ? summariseDecisions(parseDecisions(server.stdout())) : undefined;
      const { name } = job.plan;
      rows.push({ ...result, name, protection: job.protection, coverage: job.coverage, serverStartMs: server.startMs, decisions });
      log(
        `${name.padEnd(17)} ${job.protection.padEnd(18)} coverage ${coverageText(job.coverage).padStart(5)} · takeovers ${result.takeovers}, leaks ${result.validityLeaks}, ` +
          `known-device challenged ${result.legitChallengedPct.toFixed(1)} %, blocked ${result.legitBlockedPct.toFixed(1)} %, locked out ${result.legitLockedOut}, new devices stepped up ${result.newDeviceSteppedUpPct.toFixed(0)} % · ` +
          `${result.requests} requests in ${result.seconds.toFixed(1)} s${result.truncated ? ' (TIME CAP)' : ''} · server start ${(server.startMs / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    await upcoming?.then((s) => s.stop(), () => undefined);
    await seed.remove();
  }
  const order = (r: ScenarioRow) => SCENARIOS.indexOf(r.name) * 1000 + PROTECTIONS.indexOf(r.protection) * 10 + (r.coverage === null ? 0 : 9 - r.coverage * 9);
  rows.sort((a, b) => order(a) - order(b));
  return { rows, plans, lists, emailFactor: seed.emailFactor };
}

function coverageList(mode: Mode): number[] {
  const value = option('coverages');
  if (!value) return [...mode.coverages];
  return value.split(',').map((text) => {
    const n = Number(text.trim().replace(/%$/, ''));
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`--coverages: "${text}" is not a percentage 0–100`);
    return n / 100;
  });
}

async function main(): Promise<number> {
  const started = performance.now();
  const mode = flag('quick') ? QUICK : FULL;
  const scenarios = list('scenarios', SCENARIOS);
  const protections = list('protections', PROTECTIONS);
  const out = option('out') ?? 'bench';
  log(`${mode.name} run · ${cpus().length} CPUs · node ${process.version} · scenarios ${scenarios.join(', ')} · protections ${protections.join(', ')} · leak coverages ${coverageList(mode).map(coverageText).join(', ')}`);

  const coverages = coverageList(mode);
  const { rows, plans, lists, emailFactor } = await runScenarios(mode, scenarios, protections, coverages);
  let throughput: ThroughputResult | null = null;
  // A failing throughput part must not lose the scenario results: they are written, then the run fails.
  let throughputError: unknown;
  if (!flag('no-throughput')) {
    try {
      throughput = await runThroughput(mode, (line) => log(line));
    } catch (error) {
      throughputError = error;
      log(`throughput part failed (the scenario results are still written): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    mode: mode.name,
    wallSeconds: (performance.now() - started) / 1000,
    machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() },
    coverages,
    emailFactor,
    scenarios: rows,
    throughput,
    goals: evaluateGoals(rows, throughput),
    plans: plans.map((p) => summarisePlan(p, lists)),
  };
  await mkdir(out, { recursive: true });
  // The cost benches' section is theirs: carried over, never dropped by an attack run.
  const { cost } = await readResults(join(out, 'results.json'));
  await writeFile(join(out, 'results.json'), `${JSON.stringify({ ...(jsonResults(results) as object), ...(cost ? { cost } : {}) }, null, 2)}\n`);
  await writeFile(join(out, 'REPORT.md'), markdownReport(results));
  // The chart shows the lowest coverage run (the list knows least); baselines hold at any.
  const lowest = Math.min(...results.coverages);
  await writeChart({ ...results, scenarios: results.scenarios.filter((r) => r.coverage === null || r.coverage === lowest) }, out);
  process.stdout.write(`${consoleTables(results)}\n\n`);
  log(`wrote ${join(out, 'results.json')}, ${join(out, 'REPORT.md')}, ${join(out, 'chart.svg')} and chart.png · ${results.wallSeconds.toFixed(1)} s wall time`);
  const missed = results.goals.filter((g) => !g.met).length;
  if (missed > 0) log(`the shield missed ${missed} goal(s): see ${join(out, 'REPORT.md')}`);
  if (throughputError !== undefined) throw throughputError;
  return flag('strict') && missed > 0 ? 1 : 0;
}

main().then(
  // Idle keep-alive sockets and child-process handles must not hold the process open.
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('[bench] failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(2);
  },
);
