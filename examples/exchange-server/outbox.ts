import type { RequestHandler } from 'express';

/** One message the example "sent": the one-time codes a real exchange would email. */
export interface OutboxMessage {
  readonly to: string;
  readonly subject: string;
  readonly code: string;
  /** ISO time it was sent. */
  readonly at: string;
}

/**
 * The example's stand-in for an email service: messages are kept in memory (newest last, a
 * bounded number) so tests, the demo and a person trying the server can read the codes. A real
 * exchange sends them; nothing here ever leaves the process.
 */
export class Outbox {
  private readonly messages: OutboxMessage[] = [];

  constructor(private readonly max = 1000) {}

  send(to: string, subject: string, code: string): void {
    this.messages.push({ to, subject, code, at: new Date().toISOString() });
    if (this.messages.length > this.max) this.messages.splice(0, this.messages.length - this.max);
  }

  /** Messages sent so far, newest last; `to` filters by recipient (case-insensitive). */
  list(to?: string): OutboxMessage[] {
    const wanted = to?.trim().toLowerCase();
    return wanted === undefined ? [...this.messages] : this.messages.filter((m) => m.to.toLowerCase() === wanted);
  }

  /** The newest code sent to `to`, if any. */
  latestCode(to: string): string | undefined {
    return this.list(to).at(-1)?.code;
  }
}

/** `GET /dev/outbox`: development only; `main.ts`/`app.ts` never mount it when NODE_ENV=production. */
export function outboxRoute(outbox: Outbox): RequestHandler {
  return (_req, res) => {
    res.json(outbox.list());
  };
}
