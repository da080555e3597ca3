/**
 * `account-shield leaks build | check | info` — leaked-address corpora.
 */
import { buildLeakCorpus } from '../leaks/build-addresses.js';
import { INPUT_FORMATS, type InputFormat } from '../corpus/input-records.js';
import { normaliseAddress } from '../leaks/normalise.js';
import { loadLeakedAddresses } from '../leaks/source.js';
import {
  type CliCommand,
  type CliIo,
  CliError,
  corpusUsageFooter,
  EXIT_NOT_FOUND,
  EXIT_OK,
  formatCount,
  parse,
  processIo,
  resolveSecret,
  UsageError,
  runSubcommand,
  type SubcommandSpec,
} from './common.js';
import { runCorpusInfo } from './corpus-info.js';
import { BUILD_OPTIONS, buildNonEmpty, buildTarget } from './build-target.js';

const FOOTER = corpusUsageFooter('leaked', 'not leaked');

const subcommands: Record<string, SubcommandSpec> = {
  build: {
    run: runBuild,
    usage: `  account-shield leaks build INPUT... --out FILE [--format auto|text|combo|csv]
                             [--fingerprint-bits 8|16] [--secret-file FILE]
      Build a corpus from plain lists, combolists (email:password; passwords are
      dropped on read) or CSV files with an "email" column. INPUT - reads stdin.
      No valid address in the input: exit 2, FILE is not written.`,
  },
  check: {
    run: runCheck,
    usage: `  account-shield leaks check FILE ADDRESS [--secret-file FILE]
      Print "leaked" (exit 0) or "not leaked" (exit 1). FILE: corpus or plain list.`,
  },
  info: {
    run: runInfo,
    usage: `  account-shield leaks info FILE [--json] [--secret-file FILE]
      Count, bits per address, expected false-positive rate, build time.`,
  },
};

export function runLeaks(argv: string[], io: CliIo = processIo): Promise<number> {
  return runSubcommand('leaks', subcommands, FOOTER, argv, io);
}

export const leaksCommand: CliCommand = {
  summary: 'build, check and describe leaked-address corpora',
  run: (argv) => runLeaks(argv),
};

async function runBuild(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { ...BUILD_OPTIONS, format: { type: 'string', default: 'auto' } });
  const format = values['format'] as InputFormat;
  if (!INPUT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')}`);
  const target = await buildTarget('leaks build', values, positionals, io);
  const { out } = target;
  const summary = await buildNonEmpty(
    io,
    target,
    (partial, onProgress) => buildLeakCorpus({ ...target, out: partial, format, onProgress, stdin: io.stdin }),
    () => expectedLines(format),
  );
  io.out(
    `wrote ${out}: ${formatCount(summary.count)} addresses ` +
      `(${formatCount(summary.duplicates)} duplicates, ${formatCount(summary.skipped)} invalid lines skipped), ` +
      `${summary.bitsPerMember.toFixed(2)} bits/address, expected FPR ${(summary.expectedFalsePositiveRate * 100).toPrecision(3)}%, ` +
      `${(summary.elapsedMs / 1000).toFixed(1)} s`,
  );
  return EXIT_OK;
}

async function runCheck(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { 'secret-file': { type: 'string' } });
  if (positionals.length !== 2) throw new UsageError('leaks check needs FILE and ADDRESS');
  const [file, address] = positionals as [string, string];
  // The address is what the user typed; it is still not echoed back in any message.
  if (normaliseAddress(address) === null) {
    throw new CliError('ADDRESS is not a valid email address (see the address normalisation rules in the README)');
  }
  const secret = await resolveSecret(values['secret-file'], io);
  const source = await loadLeakedAddresses(file, { secret });
  try {
    const leaked = source.has(address);
    io.out(leaked ? 'leaked' : 'not leaked');
    return leaked ? EXIT_OK : EXIT_NOT_FOUND;
  } finally {
    source.close();
  }
}

async function runInfo(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'secret-file': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('leaks info needs exactly one FILE');
  return runCorpusInfo('addresses', positionals[0]!, values, io);
}

function expectedLines(format: InputFormat): string {
  const wanted: Record<InputFormat, string> = {
    auto: 'expected one address a line, email:password lines, or a CSV with an "email" column',
    text: 'expected one address a line (--format text)',
    combo: 'expected email:password lines (--format combo)',
    csv: 'expected a CSV with an "email" column (--format csv)',
  };
  return wanted[format];
}
