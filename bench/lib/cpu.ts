import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { get } from 'node:http';

/**
 * Server CPU time, the cost figure that moves least with machine noise: throughput on a shared
 * 2-core machine depends on who else runs, CPU time spent per request much less.
 *
 * A login server reports its own `process.cpuUsage()` on GET /stats (user + system, µs); any
 * other process (redis-server) is read from /proc/<pid>/stat (utime + stime, in clock ticks).
 */
export interface ServerStats {
  /** user + system CPU µs since the process started. */
  readonly cpuUs: number;
  readonly heapUsed: number;
  /** The collector's pauses since the process started (µs), when the server reports them. */
  readonly gcUs: number | undefined;
  /** The shield's decisions by action, since start (empty without a shield). */
  readonly actions: Record<string, number>;
  /** Decisions served from the shield's in-process insurance (the store was slow or down). */
  readonly degraded: number;
  /**
   * The login guard's own time, entry to `next()`, of the logins it let through since the last
   * GET /stats (µs; see login-server.ts): undefined without a shield or without such logins.
   */
  readonly guard?: GuardTimes;
  /** The same for the logins the guard answered itself (401, 429), until it hands the answer to Express. */
  readonly answered?: GuardTimes;
}

export interface GuardTimes {
  readonly n: number;
  readonly p10: number;
  readonly median: number;
  readonly p90: number;
}

export async function serverStats(port: number): Promise<ServerStats> {
  const body = (await getJson(port, '/stats')) as {
    cpu?: { user?: number; system?: number };
    heapUsed?: number;
    gcUs?: number;
    actions?: Record<string, number>;
    degraded?: number;
    guard?: GuardTimes;
    answered?: GuardTimes;
  };
  const cpuUs = (body.cpu?.user ?? Number.NaN) + (body.cpu?.system ?? Number.NaN);
  if (!Number.isFinite(cpuUs)) throw new Error(`GET /stats on :${port} did not report cpu`);
  return { cpuUs, heapUsed: body.heapUsed ?? 0, gcUs: body.gcUs, actions: body.actions ?? {}, degraded: body.degraded ?? 0, ...(body.guard ? { guard: body.guard } : {}), ...(body.answered ? { answered: body.answered } : {}) };
}

let ticksPerSecond: number | undefined;

/** CPU µs a process has used (user + system), or undefined where /proc cannot tell. */
export async function processCpuUs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return Number.isFinite(ticks) ? (ticks * 1e6) / ticksPerSecond : undefined;
  } catch {
    return undefined;
  }
}

/** GET a JSON answer from a bench server on loopback. */
export function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(error);
        }
      });
    }).on('error', reject);
  });
}
