import type { Request, Response } from 'express';
import type { Assessment, ShieldCore } from '../../engine/engine.js';
import { errorMessage } from '../../engine/engine.js';
import { storeKeys } from '../../stores/key-layout.js';
import type { Locks, PendingChange } from '../../locks/locks.js';

/** A credential change the shield let through to the app's handler. */
export interface AllowedChange {
  readonly kind: string;
  readonly userId: string;
  readonly risky: boolean;
  readonly steppedUp: boolean;
  readonly assessment: Assessment;
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
export function settleOnAnswer(res: Response, core: ShieldCore, locks: Locks, change: AllowedChange): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let done = false;
  (res as unknown as { end: (...args: unknown[]) => Response }).end = (...args: unknown[]) => {
    if (done) return end(...args);
    done = true;
    const status = res.statusCode;
    const work =
      status >= 200 && status < 300
        ? recordChange(core, locks, change, res.req)
        : status >= 400 && status < 500
          ? settleRefused(core, locks, change)
          : keepHold(core, change, status);
    work.finally(() => end(...args));
    return res;
  };
}

async function settleRefused(core: ShieldCore, locks: Locks, change: AllowedChange): Promise<void> {
  if (!change.hold) return;
  await locks.settle(change.hold).catch((error: unknown) => {
    core.config.logger.error(`[account-shield] a refused ${change.kind} change could not settle its hold (it stays): ${errorMessage(error)}`);
  });
}

async function keepHold(core: ShieldCore, change: AllowedChange, status: number): Promise<void> {
  if (change.hold) core.config.logger.warn(`[account-shield] a ${change.kind} change answered ${status}; its withdrawal hold stays`);
}

/** After a 2xx. Each step stands alone: one failing must not skip the others (above all the event the app uses to tell the owner). */
async function recordChange(core: ShieldCore, locks: Locks, change: AllowedChange, req: Request): Promise<void> {
  const { kind, userId, risky, assessment, hold } = change;
  const now = core.config.now();
  const log = (step: string) => (error: unknown) =>
    core.config.logger.error(`[account-shield] after a ${kind} change, ${step} failed: ${errorMessage(error)}`);
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
  if (change.changesPassword) {
    // What was learnt about the old password no longer holds; the next login relearns it.
    await core.store.delete(storeKeys.passwordFlags(assessment.ids.account)).catch(log('forgetting password flags'));
  }
  const markMs = locks.durationHours(kind, risky) * 3_600_000;
  await core.store.set(storeKeys.recentChange(assessment.ids.account), String(now), markMs).catch(log('marking the change'));
  const newEmail = await Promise.resolve()
    .then(change.newEmail)
    .catch((error: unknown) => void log('reading the new address')(error));
  if (newEmail && assessment.ids.device) {
    // The device that made the change stays known under the new address.
    const account = core.accountOf(newEmail);
    await core.rememberDevice(account, assessment.ids.device).catch(log('moving the device to the new address'));
    await core.store.set(storeKeys.recentChange(account), String(now), markMs).catch(log('marking the change'));
  }
  if (change.onChanged) await Promise.resolve(change.onChanged(userId, req)).catch(log('onChanged'));
  core.emit('credential.changed', { userId, kind, risky, steppedUp: change.steppedUp, withdrawalsLockedUntil: lockedUntil, at: now });
}
