/** The message of anything thrown, for a log line (no stack: logs stay one line each). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
