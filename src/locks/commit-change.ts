import type { Request, Response } from 'express';
import type { Logger } from '../config/logger.js';
import type { ChangeRecord, ShieldEngine } from '../engine/engine.js';
import { errorMessage } from '../errors/error-message.js';
import type { Locks, PendingChange } from './locks.js';

/** A credential change the shield let through to the app's handler. */
export interface AllowedChange {
  readonly kind: string;
  readonly userId: string;
  readonly risky: boolean;
  readonly steppedUp: boolean;
  /** Keyed account and device of the change. */
  readonly account: string;
  readonly device: string | undefined;
  /** Written before the change; undefined when this change does not lock withdrawals. */
  readonly hold: PendingChange | undefined;
  readonly changesPassword: boolean;
  /** The address in force after an email change, if any. */
  readonly newEmail: () => string | undefined | Promise<string | undefined>;
  readonly onChanged?: (userId: string, req: Request) => void | Promise<void>;
}

/**
 * Runs once the app's handler answers, before the response leaves, so a client that sees
 * "changed" can rely on withdrawals being locked. A 2xx records the change; a 4xx is a refusal,
 * which settles the hold; anything else (a 5xx, a redirect, a response that never ends) may
 * have changed something, so the full-length hold stays: towards locked.
 */
export function commitOnSuccess(res: Response, engine: ShieldEngine, locks: Locks, logger: Logger, change: AllowedChange): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let done = false;
  (res as unknown as { end: (...args: unknown[]) => Response }).end = (...args: unknown[]) => {
    if (done) return end(...args);
    done = true;
    const status = res.statusCode;
    const work =
      status >= 200 && status < 300
        ? recordChange(engine, locks, logger, change, res.req)
        : status >= 400 && status < 500
          ? settleRefused(locks, logger, change)
          : keepHold(logger, change, status);
    work.finally(() => end(...args));
    return res;
  };
}

async function settleRefused(locks: Locks, logger: Logger, change: AllowedChange): Promise<void> {
  if (!change.hold) return;
  await locks.settle(change.hold).catch((error: unknown) => {
    logger.error(`[account-shield] a refused ${change.kind} change could not settle its hold (it stays): ${errorMessage(error)}`);
  });
}

async function keepHold(logger: Logger, change: AllowedChange, status: number): Promise<void> {
  if (change.hold) logger.warn(`[account-shield] a ${change.kind} change answered ${status}; its withdrawal hold stays`);
}

/** After a 2xx. Each step stands alone: one failing must not skip the others (above all the event the app uses to tell the owner). */
async function recordChange(engine: ShieldEngine, locks: Locks, logger: Logger, change: AllowedChange, req: Request): Promise<void> {
  const { kind, userId, risky, hold } = change;
  const now = engine.now();
  const log = (step: string) => (error: unknown) => logger.error(`[account-shield] after a ${kind} change, ${step} failed: ${errorMessage(error)}`);
  let lockedUntil: number | null = null;
  if (hold) {
    // The hold already keeps withdrawals locked as long as the lock would: a failure here loses nothing.
    lockedUntil = await locks.applyChange(userId, kind, risky).then(
      async (record) => {
        await locks.settle(hold).catch(log('settling the hold (it lapses with the lock)'));
        return record.until;
      },
      (error: unknown) => {
        log('recording the lock (the full-length hold stands in for it)')(error);
        return hold.until;
      },
    );
  }
  const newAddress = await Promise.resolve()
    .then(change.newEmail)
    .catch((error: unknown) => void log('reading the new address')(error));
  const record: ChangeRecord = {
    account: change.account,
    changesPassword: change.changesPassword,
    recentForMs: locks.durationHours(kind, risky) * 3_600_000,
    newAddress: newAddress || undefined,
    device: change.device,
  };
  await engine.recordChange(record, log);
  if (change.onChanged) await Promise.resolve(change.onChanged(userId, req)).catch(log('onChanged'));
  engine.emit('credential.changed', { userId, kind, risky, steppedUp: change.steppedUp, withdrawalsLockedUntil: lockedUntil, at: now });
}
