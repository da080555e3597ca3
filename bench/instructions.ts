/**
 * `npm run bench:instructions [-- --calls N] [--paths success,challenge,blocked] [--tree DIR]`:
 * machine instructions per login decision, counted by valgrind (callgrind) on node --jitless.
 *
 * Wall and CPU time on these shared 2-core machines move by ±20 % between identical runs; an
 * instruction count does not depend on how busy the machine is, as long as nothing the run
 * does depends on the wall clock. The harness sees to that: no store sweep (a 1 s timer, fired
 * as often as valgrind's speed allowed), the zxcvbn learning of the set-up finished before
 * anything is counted, a full collection before and after the calls. Left over: random ids and
 * hash seeds; identical runs still differ by up to ~20 % (61,633, 67,540 and 73,258 for the
 * success path), so compare trees in one run, with `--tree`, and repeat. (Before those
 * fixes one tree counted 41,639 and then 135,554, ten minutes apart.) `--jitless` keeps it
 * repeatable (the JIT tiers up at moments that vary) at the price of weighing JavaScript more
 * than optimised code would: read the counts as a before/after comparison of the same path,
 * not as a time. Each path runs twice, with CALLS=0 and CALLS=N, and the difference
 * over N is one call (bench/lib/instruction-path.ts). `--tree DIR` counts another checkout's
 * dist/ (built there) with this checkout's harness, for a before/after in the same run.
 */
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compiledScript } from './lib/compiled.js';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const calls = Number(option('--calls') ?? 1000);
const paths = (option('--paths') ?? 'success,challenge,blocked').split(',');
const tree = option('--tree');

function instructions(script: string, path: string, n: number): number {
  const run = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', '--jitless', '--expose-gc', script], {
    env: { ...process.env, PATH_NAME: path, CALLS: String(n) },
    encoding: 'utf8',
  });
  if (run.error) throw new Error(`valgrind could not run (${run.error.message}): apt-get install valgrind`);
  if (run.status !== 0) throw new Error(`${path} with ${n} calls exited ${run.status}: ${run.stderr.split('\n').filter((l) => !l.startsWith('==')).join(' ')}`);
  const collected = /Collected : (\d+)/.exec(run.stderr);
  if (!collected) throw new Error('valgrind printed no instruction total');
  return Number(collected[1]);
}

async function main(): Promise<void> {
  let script = await compiledScript('bench/lib/instruction-path.ts');
  if (tree) {
    // The other tree's `account-shield` is its own dist/: the harness goes beside it.
    const root = resolve(import.meta.dirname, '..');
    cpSync(join(root, '.tmp', 'bench-js'), join(tree, '.tmp', 'bench-js'), { recursive: true });
    script = join(tree, '.tmp', 'bench-js', 'bench', 'lib', 'instruction-path.js');
  }
  console.log(`| path | instructions per call (${calls} calls, node --jitless, valgrind) |\n|---|---|`);
  for (const path of paths) {
    const perCall = (instructions(script, path, calls) - instructions(script, path, 0)) / calls;
    console.log(`| ${path} | ${Math.round(perCall).toLocaleString('en')} |`);
  }
}

main().catch((error: unknown) => {
  console.error('[instructions] failed:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});
