/**
 * Calling a route's middleware directly, without HTTP: a response object with what the shield
 * may touch of one, and one awaited call that says how it ended. Shared by the in-process
 * bench and the instruction counter.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** What the middleware may touch of a response: status, JSON body, headers. */
export class BenchResponse {
  statusCode = 200;
  body: unknown;
  readonly headers: Record<string, string | string[]> = {};
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  json(body: unknown): this {
    this.body = body;
    return this;
  }
  setHeader(name: string, value: string | string[]): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  append(name: string, value: string): this {
    const key = name.toLowerCase();
    const current = this.headers[key];
    this.headers[key] = current === undefined ? value : [...(Array.isArray(current) ? current : [current]), value];
    return this;
  }
}

export type Outcome = 'next' | number;

/**
 * The last call's request and response of each outcome, kept alive. A server under load has
 * requests of every kind in flight, so the hidden classes of its request and response objects
 * (and of what the shield adds to them) outlive every full collection; one call at a time,
 * nothing would, and each collection would throw away the code optimised against them (see
 * src/runtime/hidden-classes.ts): a cost of this harness, not of a server.
 */
const inFlight = new Map<Outcome, { req: Request; res: BenchResponse }>();

export async function call(middleware: RequestHandler, req: Request): Promise<{ outcome: Outcome; res: BenchResponse }> {
  const res = new BenchResponse();
  let outcome: Outcome | undefined;
  await middleware(req, res as unknown as Response, ((error?: unknown) => {
    if (error) throw error;
    outcome = 'next';
  }) as NextFunction);
  const ended = outcome ?? res.statusCode;
  inFlight.set(ended, { req, res });
  return { outcome: ended, res };
}
