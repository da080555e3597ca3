import { Agent, request } from 'node:http';

/**
 * The bench's HTTP client: node:http over one keep-alive agent, to 127.0.0.1 only. A client
 * address is presented in X-Forwarded-For (the example trusts it from loopback), and a
 * device cookie is sent back when the simulated browser has one.
 */
export interface Reply {
  /** 0 when the request failed at the socket level or timed out. */
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** `as_dev=...` when the server set a device cookie. */
  readonly deviceCookie: string | undefined;
  readonly ms: number;
}

export interface Presented {
  readonly ip: string;
  readonly cookie?: string | undefined;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class Target {
  private readonly agent: Agent;
  /** Client-side latency of every request sent through this target. */
  readonly latencies: number[] = [];

  constructor(
    readonly port: number,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post(path: string, payload: unknown, from: Presented): Promise<Reply> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-forwarded-for': from.ip,
    };
    if (from.cookie) headers.cookie = from.cookie;
    const started = performance.now();
    return new Promise<Reply>((resolve) => {
      const done = (status: number, text: string, setCookie: readonly string[] | undefined) => {
        const ms = performance.now() - started;
        this.latencies.push(ms);
        let parsed: Record<string, unknown>;
        try {
          const value: unknown = JSON.parse(text);
          parsed = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
        } catch {
          parsed = { error: status === 0 ? 'network_error' : 'non_json_response' };
        }
        const deviceCookie = setCookie?.map((c) => c.split(';')[0]?.trim() ?? '').find((c) => c.startsWith('as_dev='));
        resolve({ status, body: parsed, deviceCookie, ms });
      };
      const req = request(
        { host: '127.0.0.1', port: this.port, path, method: 'POST', headers, agent: this.agent, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), res.headers['set-cookie']));
          res.on('error', () => done(0, '', undefined));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => done(0, '', undefined));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What an answer means, from status and error code only (what any client can see). */
export type Outcome = 'token' | 'challenge' | 'invalid' | 'blocked' | 'invalid_code' | 'other';

export function outcome(reply: Reply): Outcome {
  if (reply.status === 200 && typeof reply.body.token === 'string') return 'token';
  if (reply.status === 429) return 'blocked';
  if (reply.status === 401) {
    if (reply.body.error === 'step_up_required') return 'challenge';
    if (reply.body.error === 'invalid_credentials') return 'invalid';
    if (reply.body.error === 'invalid_code') return 'invalid_code';
  }
  return 'other';
}

/**
 * Everything a checker tool can tell about an answer apart from timing: status, error code,
 * the set of body keys and whether a device cookie came back. Equal shapes are
 * indistinguishable; the validity-leak count compares these.
 */
export function shape(reply: Reply): string {
  const keys = Object.keys(reply.body).sort().join(',');
  return `${reply.status} ${String(reply.body.error ?? '-')} {${keys}}${reply.deviceCookie ? ' +cookie' : ''}`;
}

/** Nearest-rank percentile of `values` (not mutated); NaN for none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
