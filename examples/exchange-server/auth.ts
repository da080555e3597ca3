import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Session, SessionStore } from './sessions.js';

/** What `requireSession` leaves in `res.locals` for the handlers (and guards) after it. */
export interface Authenticated {
  readonly session: Session;
  /** The presented bearer token, so a credential change can keep this session and end the others. */
  readonly token: string;
}

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * `Authorization: Bearer <token>` or a 401. One answer for missing, malformed, unknown and
 * expired tokens: a client learns nothing about which.
 */
export function requireSession(sessions: SessionStore): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const token = typeof header === 'string' && header.length <= 256 ? BEARER.exec(header)?.[1] : undefined;
    const session = sessions.lookup(token);
    if (!session || token === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    res.locals.auth = { session, token } satisfies Authenticated;
    next();
  };
}

/** The authenticated session of a request that went through `requireSession`. */
export function authOf(res: Response): Authenticated {
  return res.locals.auth as Authenticated;
}
