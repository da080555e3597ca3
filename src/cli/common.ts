/**
 * What every `account-shield` command shares: the command shape, argument parsing that turns
 * mistakes into usage errors (exit 2), the key lookup, and one place that turns an error into
 * a message. Messages name files and reasons, never an address or a password from the input.
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MIN_SECRET_LENGTH } from '../config/config.js';
import { describeFsError, LeakCorpusError } from '../corpus/errors.js';

export const EXIT_OK = 0;
/** `check` found nothing. */
export const EXIT_NOT_FOUND = 1;
export const EXIT_ERROR = 2;

export interface CliCommand {
  /** One line for the top-level usage. */
  readonly summary: string;
  /** Resolves the exit code; throws only for bugs (the dispatcher maps them to 2). */
  run(argv: string[]): Promise<number>;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
};

/** Wrong arguments: the message plus a pointer to the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the user can fix (missing file, no key); printed as `error: …`, exit 2. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<T extends Options>(
  argv: string[],
  options: T,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    // parseArgs's own messages are clear ("Unknown option '--x'") but end with a hint about
    // `--` that does not apply here.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/**
 * `--hours -1` reads to parseArgs as an option followed by another option ("ambiguous"); join
 * a negative number to its option (`--hours=-1`) so the command's own range check answers
 * with what the value must be.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const valueOptions = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    valueOptions.set(`--${name}`, name);
    if (option.short !== undefined) valueOptions.set(`-${option.short}`, name);
  }
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = valueOptions.get(argv[i]!);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`--${name}=${next}`);
      i++;
    } else {
      joined.push(argv[i]!);
    }
  }
  return joined;
}

/**
 * The corpus key: `--secret-file` if given, else `SHIELD_SECRET`. A secret file's one trailing
 * newline is dropped so `echo "$SECRET" > file` gives the same key as the variable.
 */
export async function resolveSecret(secretFile: string | boolean | undefined, io: CliIo): Promise<Buffer> {
  let secret: Buffer;
  let where: string;
  if (typeof secretFile === 'string') {
    let bytes: Buffer;
    try {
      bytes = await readFile(secretFile);
    } catch (error) {
      throw new CliError(`cannot read secret file ${secretFile}: ${describeFsError(error)}`, { cause: error });
    }
    const end = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? bytes.length - 2 : bytes.length - 1) : bytes.length;
    if (end === 0) throw new CliError(`secret file ${secretFile} is empty`);
    secret = bytes.subarray(0, end);
    where = `the secret in ${secretFile}`;
  } else {
    const fromEnv = io.env['SHIELD_SECRET'];
    if (fromEnv === undefined || fromEnv.length === 0) {
      throw new CliError('no key: set SHIELD_SECRET or pass --secret-file FILE (the same secret the shield runs with)');
    }
    secret = Buffer.from(fromEnv, 'utf8');
    where = 'SHIELD_SECRET';
  }
  // The shield refuses such a secret (WEAK_SECRET), so nothing built or changed under it
  // would ever be used: say so now rather than after an hour of hashing.
  const length = secret.toString('utf8').length;
  if (length < MIN_SECRET_LENGTH) {
    throw new CliError(
      `${where} is ${length} characters long; the shield refuses secrets under ${MIN_SECRET_LENGTH} (WEAK_SECRET). Use the secret the servers run with.`,
    );
  }
  return secret;
}

/** Like `resolveSecret` but `undefined` when no key was given at all. */
export async function optionalSecret(secretFile: string | boolean | undefined, io: CliIo): Promise<Buffer | undefined> {
  if (secretFile === undefined && !io.env['SHIELD_SECRET']) return undefined;
  return resolveSecret(secretFile, io);
}

/** Prints an expected failure and returns exit code 2; rethrows anything unexpected. */
export function reportError(error: unknown, io: CliIo, usageHint: string): number {
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}`);
    io.err(usageHint);
    return EXIT_ERROR;
  }
  if (error instanceof CliError || error instanceof LeakCorpusError) {
    io.err(`error: ${error.message}`);
    return EXIT_ERROR;
  }
  throw error;
}

/** Thousands separators, fixed locale so output is stable across machines. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export type Subcommand = (argv: string[], io: CliIo) => Promise<number>;

/** The closing lines of a corpus command group's usage: the key and the exit codes. */
export function corpusUsageFooter(found: string, notFound: string): string {
  return `The key is SHIELD_SECRET, or the contents of --secret-file (at least ${MIN_SECRET_LENGTH} characters, the
servers' secret). Exit codes: 0 done (check: ${found}), 1 check: ${notFound}, 2 any error
(bad arguments, unreadable or empty input, wrong or short key).`;
}

/** One subcommand of a group: what it does, and its own usage lines. */
export interface SubcommandSpec {
  readonly run: Subcommand;
  readonly usage: string;
}

/**
 * Route `argv` to one of a command group's subcommands (`leaks build`, `passwords check`, ...):
 * the group's usage on no argument (exit 2) or --help (exit 0), the subcommand's own usage on
 * `SUBCOMMAND --help`, a usage error for an unknown name.
 */
export async function runSubcommand(
  group: string,
  subcommands: Record<string, SubcommandSpec>,
  footer: string,
  argv: string[],
  io: CliIo,
): Promise<number> {
  const usage = ['usage:', ...Object.values(subcommands).map((s) => s.usage), '', footer].join('\n');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(usage);
    return name === undefined ? EXIT_ERROR : EXIT_OK;
  }
  const subcommand = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  try {
    if (subcommand === undefined) throw new UsageError(`unknown ${group} command '${name}'`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(['usage:', subcommand.usage, '', footer].join('\n'));
      return EXIT_OK;
    }
    return await subcommand.run(rest, io);
  } catch (error) {
    const hint = subcommand === undefined ? `run 'account-shield ${group} --help' for usage` : `run 'account-shield ${group} ${name} --help' for usage`;
    return reportError(error, io, hint);
  }
}
