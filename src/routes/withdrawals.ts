import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ShieldEngine } from '../engine/engine.js';
import { unavailable } from '../http/responses.js';
import { resolveUser } from '../http/session-user.js';
import type { Locks } from '../locks/locks.js';
import type { WithdrawalRouteOptions } from '../config/route-options.js';

/**
 * Refuses withdrawals while a lock runs (423 + Retry-After) and whenever the lock state cannot
 * be read (503): an unknown lock is treated as a lock, never as none.
 */
export function withdrawalGuard(engine: ShieldEngine, locks: Locks, options: WithdrawalRouteOptions): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    let user: { userId: string } | undefined;
    try {
      user = await resolveUser(options.getUser, req);
    } catch (error) {
      return next(error);
    }
    if (!user) {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    const step = { route: options.name ?? req.path, kind: 'withdrawal', score: 0, monitor: false, account: engine.userKey(user.userId) } as const;
    let lock: Awaited<ReturnType<Locks['read']>>;
    try {
      lock = await locks.read(user.userId);
    } catch {
      engine.report(req, { ...step, action: 'block', reasons: [storeDown], degraded: true, outcome: 'blocked' });
      return unavailable(res);
    }
    const now = engine.now();
    if (lock && lock.until > now) {
      const retryAfterSeconds = Math.ceil((lock.until - now) / 1000);
      const reasons = lock.reasons.map((r) => ({ signal: `lock.${r.kind}`, points: 0, detail: r.detail ?? r.kind }));
      engine.report(req, { ...step, action: 'block', reasons, outcome: 'blocked', retryAfterSeconds });
      res.setHeader('Retry-After', String(retryAfterSeconds));
      res.status(423).json({ error: 'withdrawals_locked', lockedUntil: new Date(lock.until).toISOString() });
      return;
    }
    engine.report(req, { ...step, action: 'allow', reasons: [], outcome: 'success' }, { userId: user.userId });
    next();
  };
}

const storeDown = { signal: 'store.unavailable', points: 0, detail: 'lock state could not be read; failing closed' };
