/**
 * What every `… build` command shares (`leaks build`, `passwords build`): the `--out`,
 * `--fingerprint-bits` and `--secret-file` options, their checks, and the progress line.
 */
import { resolve } from 'node:path';
import type { BuildProgress } from '../leaks/corpus-builder.js';
import type { FingerprintBits } from '../leaks/filter-binary-fuse.js';
import { type CliIo, resolveSecret, UsageError } from './common.js';
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

/** Run a build with a progress line on a terminal, cleared before the summary. */
export async function withProgress<T>(io: CliIo, build: (onProgress: (p: BuildProgress) => void) => Promise<T>): Promise<T> {
  const progress = createProgressReporter(io.stderr, 'lines');
  try {
    return await build((p) => progress.update(p));
  } finally {
    progress.finish();
  }
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
