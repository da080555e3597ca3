/**
 * `npm run bench:in-process`: the shield's own µs per login decision, no HTTP (the measurement
 * is bench/lib/in-process.ts). It runs in a plain `node --expose-gc` process on the compiled
 * dist/ (built first by the npm script), so no loader sits in the measured calls. Writes
 * `cost.inProcess` in bench/results.json and regenerates the README's performance paragraph.
 *
 *   --quick   fewer rounds and calls; prints, writes nothing (unless --write)
 *   --deopts  also runs node with --trace-deopt and lists the optimised code a full collection
 *             threw away during the timed rounds (`reason: weak objects`: see
 *             src/runtime/hidden-classes.ts); the timings of such a run are not written
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { compiledScript } from './lib/compiled.js';
import type { InProcessResult } from './lib/in-process.js';
import { measuredCommit } from './lib/measured-commit.js';
import { writeCostPart } from './lib/results-file.js';
import { spreadText } from './lib/spread.js';
import { writeReadmePerformance } from './readme-performance.js';

/** What the measured process prints when its timed rounds begin (a `--trace-deopt` run). */
const TIMED_ROUNDS_MARK = '[in-process] timed rounds begin';

/** Functions whose optimised code a full collection threw away in the timed rounds, by name, with how often. */
export type ThrownAway = { readonly name: string; readonly times: number }[];

export async function runInProcess(quick: boolean, traceDeopts = false): Promise<InProcessResult & { thrownAway?: ThrownAway }> {
  const script = await compiledScript('bench/lib/in-process.ts');
  const env = { ...process.env, ...(quick ? { ROUNDS: '3', CALLS: '1000' } : {}), ...(traceDeopts ? { MARK: TIMED_ROUNDS_MARK } : {}) };
  const child = spawn(process.execPath, ['--expose-gc', ...(traceDeopts ? ['--trace-deopt'] : []), script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the in-process bench exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop() ?? '') as InProcessResult;
  const measured = { ...result, commit: measuredCommit(), command: quick ? 'npm run bench:in-process -- --quick' : 'npm run bench:in-process' };
  return traceDeopts ? { ...measured, thrownAway: thrownAway(out) } : measured;
}

/** From `--trace-deopt` output: code marked for deoptimisation because objects it embeds died, after the mark. */
function thrownAway(trace: string): ThrownAway {
  const timed = trace.slice(Math.max(0, trace.indexOf(TIMED_ROUNDS_MARK)));
  const times = new Map<string, number>();
  for (const match of timed.matchAll(/<SharedFunctionInfo (.*?)>\) \(opt id \d+\) for deoptimization, reason: weak objects/g)) {
    const name = match[1] || '(anonymous)';
    times.set(name, (times.get(name) ?? 0) + 1);
  }
  return [...times].map(([name, n]) => ({ name, times: n })).sort((a, b) => b.times - a.times || a.name.localeCompare(b.name));
}

export function inProcessTable(result: InProcessResult): string {
  const lines = [
    '| path | wall µs per call, min / median / max | CPU µs per call, min / median / max | wall over the baseline | target | unexpected answers |',
    '|---|---|---|---|---|---|',
  ];
  for (const p of result.paths) {
    const over = p.name.startsWith('baseline') ? '' : p.overBaselineUs.toFixed(1);
    lines.push(`| ${p.label} | ${spreadText(p.usPerCall, 1)} | ${p.cpuUsPerCall ? spreadText(p.cpuUsPerCall, 1) : '—'} | ${over} | ${p.targetUs === undefined ? '' : `≤ ${p.targetUs}`} | ${p.unexpected} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const deopts = process.argv.includes('--deopts');
  const write = !deopts && (!quick || process.argv.includes('--write'));
  runInProcess(quick, deopts)
    .then(async (result) => {
      process.stdout.write(`${inProcessTable(result)}\n(${result.rounds} rounds × ${result.callsPerBatch} calls per path; a quarter as many, each after a cache sweep, in the swept rows)\n`);
      if (result.thrownAway) {
        const total = result.thrownAway.reduce((sum, f) => sum + f.times, 0);
        const list = result.thrownAway.map((f) => `${f.name} ×${f.times}`).join(', ');
        process.stdout.write(`optimised code thrown away by a full collection in the timed rounds: ${total}${total > 0 ? ` (${list})` : ''}\n`);
      }
      if (write) {
        await writeCostPart('inProcess', result);
        console.error('[in-process] wrote cost.inProcess in bench/results.json');
        console.error(`[in-process] ${await writeReadmePerformance().catch((error: unknown) => `README not regenerated: ${error instanceof Error ? error.message : String(error)}`)}`);
      }
    })
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('[in-process] failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
        process.exit(1);
      },
    );
}
