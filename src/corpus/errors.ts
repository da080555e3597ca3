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

export class LeakCorpusError extends Error {
  readonly code: LeakCorpusErrorCode;

  constructor(code: LeakCorpusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeakCorpusError';
    this.code = code;
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
