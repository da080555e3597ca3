/**
 * `account-shield passwords build | check | info` — breached-password corpora from Have I Been
 * Pwned style dumps (`SHA1:COUNT` lines). `check` reads the password from stdin so it never
 * sits in shell history or a process list.
 */
import { buildBreachedPasswordCorpus, loadBreachedPasswords } from '../passwords/breached-local.js';
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

const MAX_PASSWORD_BYTES = 4096;

const FOOTER = corpusUsageFooter('breached', 'not breached');

const subcommands: Record<string, SubcommandSpec> = {
  build: {
    run: runBuild,
    usage: `  account-shield passwords build INPUT... --out FILE [--min-count N]
                                 [--fingerprint-bits 8|16] [--secret-file FILE]
      Build a corpus from SHA1:COUNT lines (the Pwned Passwords format). INPUT - reads stdin.
      No valid line at or above --min-count: exit 2, FILE is not written.`,
  },
  check: {
    run: runCheck,
    usage: `  account-shield passwords check FILE [--secret-file FILE]   < password
      Read one password from stdin; print "breached" (exit 0) or "not breached" (exit 1).`,
  },
  info: {
    run: runInfo,
    usage: `  account-shield passwords info FILE [--json] [--secret-file FILE]
      Count, bits per password, expected false-positive rate, build time.`,
  },
};

export function runPasswords(argv: string[], io: CliIo = processIo): Promise<number> {
  return runSubcommand('passwords', subcommands, FOOTER, argv, io);
}

export const passwordsCommand: CliCommand = {
  summary: 'build, check and describe breached-password corpora',
  run: (argv) => runPasswords(argv),
};

async function runBuild(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { ...BUILD_OPTIONS, 'min-count': { type: 'string', default: '1' } });
  const minCount = Number(values['min-count']);
  if (!Number.isSafeInteger(minCount) || minCount < 1) {
    throw new UsageError(`--min-count must be a whole number of at least 1, got ${JSON.stringify(String(values['min-count']).slice(0, 20))}`);
  }
  const target = await buildTarget('passwords build', values, positionals, io);
  const { out } = target;
  const summary = await buildNonEmpty(
    io,
    target,
    (partial, onProgress) => buildBreachedPasswordCorpus({ ...target, out: partial, minCount, onProgress, stdin: io.stdin }),
    (s) => (s.belowMinCount > 0 ? `${formatCount(s.belowMinCount)} lines below --min-count ${minCount}` : 'expected SHA1:COUNT lines (40 hex digits, a colon, a count)'),
  );
  io.out(
    `wrote ${out}: ${formatCount(summary.count)} password hashes ` +
      `(${formatCount(summary.duplicates)} duplicates, ${formatCount(summary.skipped)} invalid lines skipped, ` +
      `${formatCount(summary.belowMinCount)} below --min-count), ${summary.bitsPerMember.toFixed(2)} bits/password, ` +
      `expected FPR ${(summary.expectedFalsePositiveRate * 100).toPrecision(3)}%, ${(summary.elapsedMs / 1000).toFixed(1)} s`,
  );
  return EXIT_OK;
}

async function runCheck(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { 'secret-file': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('passwords check needs FILE (the password is read from stdin)');
  const secret = await resolveSecret(values['secret-file'], io);
  const corpus = await loadBreachedPasswords(positionals[0]!, { secret });
  const password = await readPassword(io.stdin);
  const breached = corpus.has(password);
  io.out(breached ? 'breached' : 'not breached');
  return breached ? EXIT_OK : EXIT_NOT_FOUND;
}

async function runInfo(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'secret-file': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('passwords info needs exactly one FILE');
  return runCorpusInfo('passwords', positionals[0]!, values, io);
}

/** The first line of stdin, without its line ending. */
async function readPassword(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    size += bytes.length;
    if (bytes.includes(0x0a) || size > MAX_PASSWORD_BYTES) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const newline = text.indexOf('\n');
  const password = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (password.length === 0) throw new CliError('no password on stdin');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new CliError('the password on stdin is too long');
  return password;
}
