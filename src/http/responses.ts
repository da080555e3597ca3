import type { NextFunction, Request, Response } from 'express';

/**
 * Every refusal is JSON with an `error` code, so clients (and attack tools) see one shape per
 * outcome and nothing else: no stack traces, no per-account detail.
 */
export function badRequest(res: Response, detail: string): void {
  res.status(400).json({ error: 'bad_request', detail });
}

export function tooManyAttempts(res: Response, retryAfterSeconds: number): void {
  res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  res.status(429).json({ error: 'too_many_attempts' });
}

export function invalidCredentials(res: Response): void {
  res.status(401).json({ error: 'invalid_credentials' });
}

/** RFC 9470-style step-up answer: the client repeats with a second factor. */
export function stepUpRequired(res: Response, challenge: string, expiresInSec: number): void {
  res.setHeader(
    'WWW-Authenticate',
    'Bearer error="insufficient_user_authentication", error_description="A second factor is required", acr_values="mfa"',
  );
  res.status(401).json({ error: 'step_up_required', challenge, expiresIn: expiresInSec });
}

export function invalidCode(res: Response): void {
  res.status(401).json({ error: 'invalid_code' });
}

export function unavailable(res: Response, retryAfterSeconds = 5): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  res.status(503).json({ error: 'unavailable' });
}

interface HttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/**
 * Express error handler that answers body-parser failures (malformed JSON, oversized or
 * wrongly encoded bodies) with a JSON 4xx instead of Express's HTML page, and anything else
 * with a bare JSON 500 that reveals nothing.
 */
export function jsonErrorHandler() {
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const e = (error ?? {}) as HttpError;
    const status = e.status ?? e.statusCode ?? 500;
    if (status === 413) {
      res.status(413).json({ error: 'payload_too_large' });
    } else if (status >= 400 && status < 500) {
      res.status(status === 415 ? 415 : 400).json({ error: 'bad_request', detail: e.type ?? 'invalid request' });
    } else {
      res.status(500).json({ error: 'internal_error' });
    }
  };
}
