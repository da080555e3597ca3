import { ShieldError } from '../errors/shield-error.js';

/**
 * Named errors for corpus files, so callers (the CLI, the shield's loader, a reload
 * watcher) can tell "someone truncated the file" from "this file was built under another
 * secret" without parsing messages.
 */
export type LeakCorpusErrorCode =
  | 'CORPUS_BAD_MAGIC'
  | 'CORPUS_VERSION'
  | 'CORPUS_TRUNCATED'
  | 'CORPUS_CORRUPT'
  | 'CORPUS_CHECKSUM'
  | 'CORPUS_WRONG_KEY'
  | 'CORPUS_KIND'
  | 'CORPUS_READ'
  | 'CORPUS_WRITE'
  | 'CORPUS_INPUT';

/** What to do about each kind of corpus problem, one sentence. */
const FIXES: Record<LeakCorpusErrorCode, string> = {
  CORPUS_BAD_MAGIC: 'Point the shield at a file built by `account-shield leaks build` (or a plain list of addresses).',
  CORPUS_VERSION: 'Rebuild the corpus with this version of `account-shield leaks build`.',
  CORPUS_TRUNCATED: 'The file is cut short: copy it again or rebuild it.',
  CORPUS_CORRUPT: 'The file is damaged: copy it again or rebuild it.',
  CORPUS_CHECKSUM: 'The file is damaged: copy it again or rebuild it.',
  CORPUS_WRONG_KEY: 'Build the corpus with the SHIELD_SECRET the servers run with, or run the servers with the secret it was built under.',
  CORPUS_KIND: 'Use an address corpus for leakedAddresses and a password corpus for breachedPasswords.',
  CORPUS_READ: 'Check the path exists and is readable by this process.',
  CORPUS_WRITE: 'Check the output directory exists, is writable and has free space.',
  CORPUS_INPUT: 'Give input files with one address (or password) per line, or a CSV with an email column.',
};

export class LeakCorpusError extends ShieldError {
  override readonly name = 'LeakCorpusError';
  declare readonly code: LeakCorpusErrorCode;

  constructor(code: LeakCorpusErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, FIXES[code], options);
  }
}

/** A short reason for a failed file operation, without a stack or an errno number. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
