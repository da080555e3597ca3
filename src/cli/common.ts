/**
 * What every `account-shield` command shares: the command shape, argument parsing that turns
 * mistakes into usage errors (exit 2), the key lookup, and one place that turns an error into
 * a message. Messages name files and reasons, never an address or a password from the input.
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { describeFsError, LeakCorpusError } from '../leaks/errors.js';

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
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    // parseArgs's own messages are clear ("Unknown option '--x'") but end with a hint about
    // `--` that does not apply here.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/**
 * The corpus key: `--secret-file` if given, else `SHIELD_SECRET`. A secret file's one trailing
 * newline is dropped so `echo "$SECRET" > file` gives the same key as the variable.
 */
export async function resolveSecret(secretFile: string | boolean | undefined, io: CliIo): Promise<Buffer> {
  if (typeof secretFile === 'string') {
    let bytes: Buffer;
    try {
      bytes = await readFile(secretFile);
    } catch (error) {
      throw new CliError(`cannot read secret file ${secretFile}: ${describeFsError(error)}`, { cause: error });
    }
    const end = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? bytes.length - 2 : bytes.length - 1) : bytes.length;
    if (end === 0) throw new CliError(`secret file ${secretFile} is empty`);
    return bytes.subarray(0, end);
  }
  const fromEnv = io.env['SHIELD_SECRET'];
  if (fromEnv === undefined || fromEnv.length === 0) {
    throw new CliError('no key: set SHIELD_SECRET or pass --secret-file FILE (the same secret the shield runs with)');
  }
  return Buffer.from(fromEnv, 'utf8');
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

/**
 * Route `argv` to one of a command group's subcommands (`leaks build`, `passwords check`, ...):
 * usage on no argument (exit 2) or --help (exit 0), a usage error for an unknown name.
 */
export async function runSubcommand(
  group: string,
  usage: string,
  subcommands: Record<string, Subcommand>,
  argv: string[],
  io: CliIo,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(usage);
    return name === undefined ? EXIT_ERROR : EXIT_OK;
  }
  const subcommand = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  try {
    if (subcommand === undefined) throw new UsageError(`unknown ${group} command '${name}'`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(usage);
      return EXIT_OK;
    }
    return await subcommand(rest, io);
  } catch (error) {
    return reportError(error, io, `run 'account-shield ${group} --help' for usage`);
  }
}
