import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Child server processes of a bench run. Every one is killed when the bench exits, even on
 * a crash or Ctrl-C, so no server outlives the run. Only processes started here are touched.
 */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

export interface ServerProcess {
  readonly port: number;
  readonly pid: number | undefined;
  /** Everything the process printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** A line matching this (group 1 = the port) means the server is listening. */
  readonly ready: RegExp;
  readonly timeoutMs: number;
  /** Keep stdout in memory (decision logs); otherwise only the last few KB are kept. */
  readonly keepStdout?: boolean;
}

const TAIL = 16_384;

/** Start `node <args>` and resolve once it printed its listening line. */
export function startServer(options: StartOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args as string[], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => live.delete(child));

  const server = (port: number): ServerProcess => ({
    port,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    stop: async (graceMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  });

  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`${why}\n--- stderr ---\n${err.slice(-4000)}\n--- stdout ---\n${out.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`server did not start within ${options.timeoutMs} ms`), options.timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!options.keepStdout && out.length > TAIL * 2) out = out.slice(-TAIL);
      if (settled) return;
      const match = options.ready.exec(out);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve(server(Number(match[1])));
      }
    });
    child.stderr.on('data', (chunk: string) => {
      err = (err + chunk).slice(-TAIL);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`server exited before listening (code ${code}, signal ${signal})`);
    });
    child.once('error', (error) => fail(`could not spawn node: ${error.message}`));
  });
}
