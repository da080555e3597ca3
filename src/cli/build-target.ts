/**
 * What every `… build` command shares (`leaks build`, `passwords build`): the `--out`,
 * `--fingerprint-bits` and `--secret-file` options, their checks, and the progress line.
 */
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BuildProgress, BuildSummary } from '../corpus/corpus-builder.js';
import { describeFsError, LeakCorpusError } from '../corpus/errors.js';
import type { FingerprintBits } from '../corpus/filter-binary-fuse.js';
import { type CliIo, CliError, formatCount, resolveSecret, UsageError } from './common.js';
import { createProgressReporter } from './progress.js';

export const BUILD_OPTIONS = {
  out: { type: 'string', short: 'o' },
  'fingerprint-bits': { type: 'string', default: '8' },
  'secret-file': { type: 'string' },
} as const;

export interface BuildTarget {
  readonly inputs: string[];
  readonly out: string;
  readonly fingerprintBits: FingerprintBits;
  readonly secret: Buffer;
}

/** Check the shared build arguments of `command` (e.g. `leaks build`) and read the key. */
export async function buildTarget(
  command: string,
  values: Record<string, string | boolean | undefined>,
  inputs: string[],
  io: CliIo,
): Promise<BuildTarget> {
  if (inputs.length === 0) throw new UsageError(`${command} needs at least one INPUT file`);
  const out = values['out'];
  if (typeof out !== 'string' || out.length === 0) throw new UsageError(`${command} needs --out FILE`);
  const fingerprintBits = parseFingerprintBits(values['fingerprint-bits']);
  refuseOverwritingInput(out, inputs);
  return { inputs, out, fingerprintBits, secret: await resolveSecret(values['secret-file'], io) };
}

/**
 * Run a build into a temporary file beside `--out`, with a progress line on a terminal, and
 * move it into place only if it holds at least one record: an input of the wrong format reads
 * as nothing but invalid lines, and must neither exit 0 nor replace a good corpus with an
 * empty one. `why` explains an empty result (e.g. the expected line format).
 */
export async function buildNonEmpty<T extends BuildSummary>(
  io: CliIo,
  target: BuildTarget,
  build: (out: string, onProgress: (p: BuildProgress) => void) => Promise<T>,
  why: (summary: T) => string,
): Promise<T> {
  const temporary = `${target.out}.partial-${process.pid}`;
  const progress = createProgressReporter(io.stderr, 'lines');
  let summary: T;
  try {
    summary = await build(temporary, (p) => progress.update(p));
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof LeakCorpusError) throw new LeakCorpusError(error.code, error.message.replaceAll(temporary, target.out), { cause: error });
    throw error;
  } finally {
    progress.finish();
  }
  if (summary.count === 0) {
    await rm(temporary, { force: true });
    throw new CliError(
      `no valid records in ${target.inputs.join(', ')} (${formatCount(summary.records)} lines read, ${formatCount(summary.skipped)} invalid): ${why(summary)}; ${target.out} was not written`,
    );
  }
  try {
    await rename(temporary, target.out);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CliError(`cannot write ${target.out}: ${describeFsError(error)}`, { cause: error });
  }
  return summary;
}

export function parseFingerprintBits(value: string | boolean | undefined): FingerprintBits {
  if (value === '8') return 8;
  if (value === '16') return 16;
  throw new UsageError('--fingerprint-bits must be 8 or 16');
}

/** `--out` equal to an input would replace the dump being read; almost surely a typo. */
export function refuseOverwritingInput(out: string, inputs: readonly string[]): void {
  if (inputs.some((input) => input !== '-' && resolve(input) === resolve(out))) {
    throw new UsageError('--out must not be one of the INPUT files');
  }
}
