import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ShieldCore } from '../engine/engine.js';
import type { Locks } from '../locks/locks.js';
import { unavailable } from '../http/responses.js';
import type { ShieldRequest } from '../http/request-state.js';
import { type GetUser, resolveUser } from '../http/session-user.js';

export interface WithdrawalRouteOptions {
  getUser: GetUser<{ userId: string }>;
  name?: string;
}

/**
 * Refuses withdrawals while a lock runs (423 + Retry-After) and whenever the lock state cannot
 * be read (503): an unknown lock is treated as a lock, never as none.
 */
export function withdrawalGuard(core: ShieldCore, locks: Locks, options: WithdrawalRouteOptions): RequestHandler {
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
    const route = options.name ?? req.path;
    const ctx = core.context.read(req, core.devices.read(req));
    const ids = { account: core.key('user', user.userId), ip: ctx.ip, subnet: ctx.subnet, device: ctx.device };
    let lock: Awaited<ReturnType<Locks['read']>>;
    try {
      lock = await locks.read(user.userId);
    } catch {
      core.publish(
        core.decision(route, 'withdrawal', { action: 'block', score: 0, reasons: [storeDown], degraded: true, ids }, false, { outcome: 'blocked' }),
      );
      return unavailable(res);
    }
    const now = core.config.now();
    if (lock && lock.until > now) {
      const retryAfterSeconds = Math.ceil((lock.until - now) / 1000);
      const reasons = lock.reasons.map((r) => ({ signal: `lock.${r.kind}`, points: 0, detail: r.detail ?? r.kind }));
      const decision = core.decision(route, 'withdrawal', { action: 'block', score: 0, reasons, degraded: false, ids }, false, {
        outcome: 'blocked',
        retryAfterSeconds,
      });
      core.publish(decision);
      res.setHeader('Retry-After', String(retryAfterSeconds));
      res.status(423).json({ error: 'withdrawals_locked', lockedUntil: new Date(lock.until).toISOString() });
      return;
    }
    const decision = core.decision(route, 'withdrawal', { action: 'allow', score: 0, reasons: [], degraded: false, ids }, false, {
      outcome: 'success',
    });
    core.publish(decision);
    (req as ShieldRequest).shield = { decision, userId: user.userId };
    next();
  };
}

const storeDown = { signal: 'store.unavailable', points: 0, detail: 'lock state could not be read; failing closed' };
