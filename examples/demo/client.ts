/**
 * A minimal HTTP client over node's fetch that behaves like a browser as far as the shield can
 * tell: it presents a client address (X-Forwarded-For, trusted from loopback) and keeps or
 * drops the device cookie.
 */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The `as_dev=...` pair if the server set a device cookie. */
  readonly deviceCookie: string | undefined;
}

export class Client {
  constructor(
    private readonly baseUrl: string,
    readonly ip: string,
    public cookie: string | undefined = undefined,
  ) {}

  async post(path: string, body: unknown): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': this.ip };
    if (this.cookie) headers.cookie = this.cookie;
    const res = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { error: 'non_json_response' };
    }
    const deviceCookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] ?? '')
      .find((c) => c.startsWith('as_dev='));
    return { status: res.status, body: parsed, deviceCookie };
  }
}

/** What an answer means to the client, from status and error code only. */
export type Outcome = 'token' | 'step_up_required' | 'invalid_credentials' | 'too_many_attempts' | 'invalid_code' | 'other';

export function outcomeOf(answer: Answer): Outcome {
  if (answer.status === 200 && typeof answer.body.token === 'string') return 'token';
  if (answer.status === 429) return 'too_many_attempts';
  const error = answer.body.error;
  if (answer.status === 401 && (error === 'step_up_required' || error === 'invalid_credentials' || error === 'invalid_code')) return error;
  return 'other';
}

/**
 * Everything an attacker can observe about an answer besides timing: status, error code, the
 * set of body fields, whether a cookie came back. Two answers with the same signature are
 * indistinguishable to a checker tool.
 */
export function signature(answer: Answer): string {
  return `${answer.status}|${String(answer.body.error ?? '')}|${Object.keys(answer.body).sort().join(',')}|${answer.deviceCookie ? 'cookie' : ''}`;
}
