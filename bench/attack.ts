/**
 * `npm run bench [-- --quick]`: the same credential-stuffing traffic, in one run, against the
 * example exchange with no protection, with the two defences people use today, and with the
 * shield; then what the shield costs per request. Prints a table per scenario and writes
 * bench/results.json, bench/REPORT.md and bench/chart.svg (+ chart.png).
 *
 *   --quick              CI smoke: small budgets, under two minutes in all
 *   --strict             exit 1 when the shield misses a goal (default: 0 once the run completed)
 *   --scenarios a,b      stuffing, low-and-slow, spraying (default all)
 *   --protections a,b    none, express-rate-limit, rlf-recipe, shield (default all)
 *   --no-throughput      skip the throughput, overhead and zxcvbn measurements
 *   --out DIR            where to write the results (default bench/)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PROTECTIONS, type Protection, parseDecisions, startExchange, summariseDecisions, writeSeed } from './lib/exchange.js';
import { writeChart } from './lib/chart.js';
import { Target } from './lib/http.js';
import { FULL, type Mode, QUICK } from './lib/modes.js';
import { buildPopulation } from './lib/population.js';
import {
  type BenchResults,
  consoleTables,
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

async function runScenarios(mode: Mode, scenarios: readonly ScenarioName[], protections: readonly Protection[]) {
  const population = buildPopulation(new Rng(mode.seed), mode.population);
  const plans: Plan[] = SCENARIOS.map((name, i) => buildPlan(name, new Rng(mode.seed + 7919 * (i + 1)), population, mode.sizes));
  const seed = await writeSeed(population);
  const rows: ScenarioRow[] = [];
  try {
    for (const [k, name] of scenarios.entries()) {
      const plan = plans.find((p) => p.name === name)!;
      for (const protection of rotated(protections, k)) {
        const server = await startExchange(protection, seed);
        const target = new Target(server.port, plan.concurrency + 16);
        let result: Awaited<ReturnType<typeof runPlan>>;
        try {
          result = await runPlan(target, plan, mode.timeCapMs);
        } finally {
          target.close();
          await server.stop();
        }
        const decisions = protection === 'shield' ? summariseDecisions(parseDecisions(server.stdout())) : undefined;
        rows.push({ ...result, name, protection, serverStartMs: server.startMs, decisions });
        log(
          `${name.padEnd(12)} ${protection.padEnd(18)} takeovers ${result.takeovers}, leaks ${result.validityLeaks}, ` +
            `legit challenged ${result.legitChallengedPct.toFixed(1)} % blocked ${result.legitBlockedPct.toFixed(1)} % locked out ${result.legitLockedOut}, ` +
            `p50 ${result.p50ms.toFixed(0)} ms p99 ${result.p99ms.toFixed(0)} ms · ${result.requests} requests in ${result.seconds.toFixed(1)} s` +
            `${result.truncated ? ' (TIME CAP)' : ''} · server start ${(server.startMs / 1000).toFixed(1)} s`,
        );
      }
    }
  } finally {
    await seed.remove();
  }
  const order = (r: ScenarioRow) => SCENARIOS.indexOf(r.name) * 10 + PROTECTIONS.indexOf(r.protection);
  rows.sort((a, b) => order(a) - order(b));
  return { rows, plans: plans.filter((p) => scenarios.includes(p.name)) };
}

async function main(): Promise<number> {
  const started = performance.now();
  const mode = flag('quick') ? QUICK : FULL;
  const scenarios = list('scenarios', SCENARIOS);
  const protections = list('protections', PROTECTIONS);
  const out = option('out') ?? 'bench';
  log(`${mode.name} run · ${cpus().length} CPUs · node ${process.version} · scenarios ${scenarios.join(', ')} · protections ${protections.join(', ')}`);

  const { rows, plans } = await runScenarios(mode, scenarios, protections);
  let throughput: ThroughputResult | null = null;
  if (!flag('no-throughput')) throughput = await runThroughput(mode, (line) => log(line));

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    mode: mode.name,
    wallSeconds: (performance.now() - started) / 1000,
    machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() },
    scenarios: rows,
    throughput,
    goals: evaluateGoals(rows, throughput),
    plans: plans.map(summarisePlan),
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'results.json'), `${JSON.stringify(jsonResults(results), null, 2)}\n`);
  await writeFile(join(out, 'REPORT.md'), markdownReport(results));
  await writeChart(results, out);
  process.stdout.write(`${consoleTables(results)}\n\n`);
  log(`wrote ${join(out, 'results.json')}, ${join(out, 'REPORT.md')}, ${join(out, 'chart.svg')} and chart.png · ${results.wallSeconds.toFixed(1)} s wall time`);
  const missed = results.goals.filter((g) => !g.met).length;
  if (missed > 0) log(`the shield missed ${missed} goal(s): see ${join(out, 'REPORT.md')}`);
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
