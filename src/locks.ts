import type { LockOptions } from './config.js';
import type { ShieldCore } from './core.js';
import { ShieldConfigError } from './errors.js';
import { storeKeys } from './keys.js';
import type { LockReason, LockRecord, Store } from './stores/store.js';

export interface LockStatus {
  readonly locked: boolean;
  /** When withdrawals unlock; null when not locked. */
  readonly until: Date | null;
  readonly reasons: readonly LockReason[];
}

export interface AdminLockOptions {
  hours: number;
  reason: string;
  actor: string;
}

export interface AdminUnlockOptions {
  reason: string;
  actor: string;
}

/** Withdrawal locks and their admin API. Everything goes to the primary store: no insurance. */
export interface WithdrawalLocks {
  status(userId: string): Promise<LockStatus>;
  lock(userId: string, options: AdminLockOptions): Promise<LockStatus>;
  unlock(userId: string, options: AdminUnlockOptions): Promise<LockStatus>;
}

const MAX_TEXT = 500;
/** How long the pre-change hold lasts: long enough to retry recording the real lock. */
const PENDING_HOLD_HOURS = 0.25;

/**
 * Locks live in the primary store only. Were they to fall back to an in-process store during an
 * outage, another instance would not see them and a withdrawal could slip through: the
 * opposite of failing closed.
 */
export class Locks implements WithdrawalLocks {
  constructor(
    private readonly core: ShieldCore,
    private readonly options: LockOptions,
  ) {}

  private get store(): Store {
    return this.core.store;
  }

  private key(userId: string): string {
    return storeKeys.withdrawalLock(this.core.key('user', userId));
  }

  /** Hours a change of `kind` locks for; throws at mount time for a kind nobody configured. */
  durationHours(kind: string, risky: boolean): number {
    const duration = this.options.durations[kind];
    if (!duration) throw unknownKind(kind, Object.keys(this.options.durations));
    return risky ? Math.max(duration.hours, duration.riskyHours ?? duration.hours) : duration.hours;
  }

  assertKind(kind: string): void {
    this.durationHours(kind, false);
  }

  private holdKey(userId: string): string {
    return storeKeys.lockHold(this.core.key('user', userId));
  }

  /**
   * The lock in force, including a pending-change hold; rejects when the store cannot answer
   * (callers fail closed).
   */
  async read(userId: string): Promise<LockRecord | undefined> {
    const now = this.core.config.now();
    const [lock, heldRaw] = await Promise.all([
      this.store.getLock(this.key(userId), now),
      this.store.read({ counters: [], keys: [this.holdKey(userId)] }).then((r) => r.values[0]),
    ]);
    const hold = parseHold(heldRaw);
    if (!hold || hold.until <= now) return lock;
    return { until: Math.max(lock?.until ?? 0, hold.until), reasons: [...(lock?.reasons ?? []), hold] };
  }

  async status(userId: string): Promise<LockStatus> {
    return toStatus(await this.read(checkUser(userId)));
  }

  /** Lock after a change of `kind`; runs from now, never shortens an existing lock. */
  async applyChange(userId: string, kind: string, risky: boolean): Promise<LockRecord> {
    const hours = this.durationHours(kind, risky);
    return this.extend(userId, { kind, hours, detail: `${kind} changed${risky ? ' after step-up' : ''}` });
  }

  /**
   * A short hold written before a change is allowed to happen, so that if recording the full
   * lock afterwards fails, withdrawals are still held while it is retried.
   */
  async hold(userId: string, kind: string): Promise<void> {
    this.assertKind(kind);
    const now = this.core.config.now();
    const ttl = PENDING_HOLD_HOURS * 3_600_000;
    const reason: LockReason = { kind: 'pending-change', at: now, until: now + ttl, detail: `${kind} change in progress` };
    await this.store.set(this.holdKey(userId), JSON.stringify(reason), ttl);
  }

  /** Lift the pending-change hold (the change was refused, or its lock is recorded). */
  async release(userId: string): Promise<void> {
    await this.store.delete(this.holdKey(userId));
  }

  /** Retry recording a change's lock in the background while the short hold lasts. */
  retryApplyChange(userId: string, kind: string, risky: boolean): void {
    const deadline = this.core.config.now() + PENDING_HOLD_HOURS * 3_600_000;
    let delay = 1000;
    const attempt = () => {
      this.applyChange(userId, kind, risky)
        .then(() => this.release(userId))
        .catch(() => {
        delay = Math.min(delay * 2, 60_000);
        if (this.core.config.now() + delay < deadline) setTimeout(attempt, delay).unref();
        else this.core.config.logger.error(`[account-shield] could not record a ${kind} withdrawal lock; giving up`);
      });
    };
    setTimeout(attempt, delay).unref();
  }

  async lock(userId: string, options: AdminLockOptions): Promise<LockStatus> {
    checkUser(userId);
    if (!(typeof options?.hours === 'number' && Number.isFinite(options.hours) && options.hours > 0 && options.hours <= 24 * 366)) {
      throw new RangeError('hours must be a number between 0 and 8784 (one year)');
    }
    const reason = checkText(options.reason, 'reason');
    const actor = checkText(options.actor, 'actor');
    return toStatus(await this.extend(userId, { kind: 'admin', hours: options.hours, detail: reason, actor }));
  }

  async unlock(userId: string, options: AdminUnlockOptions): Promise<LockStatus> {
    checkUser(userId);
    const reason = checkText(options?.reason, 'reason');
    const actor = checkText(options?.actor, 'actor');
    const now = this.core.config.now();
    const removed = await this.store.clearLock(this.key(userId), now);
    this.core.emit('withdrawals.unlocked', { userId, reason, actor, at: now, wasLockedUntil: removed?.until ?? null });
    return toStatus(undefined);
  }

  private async extend(userId: string, cause: { kind: string; hours: number; detail: string; actor?: string }): Promise<LockRecord> {
    const now = this.core.config.now();
    const reason: LockReason = {
      kind: cause.kind,
      at: now,
      until: now + Math.round(cause.hours * 3_600_000),
      detail: cause.detail.slice(0, MAX_TEXT),
      ...(cause.actor ? { actor: cause.actor } : {}),
    };
    const record = await this.store.extendLock(this.key(userId), reason, now, this.options.maxReasons);
    this.core.emit('withdrawals.locked', { userId, until: record.until, cause: reason, reasons: record.reasons, at: now });
    return record;
  }
}

function parseHold(raw: string | undefined): LockReason | undefined {
  if (raw === undefined) return undefined;
  try {
    const hold = JSON.parse(raw) as LockReason;
    return typeof hold.until === 'number' ? hold : undefined;
  } catch {
    // Unreadable means unknown, and unknown locks fail closed.
    return { kind: 'pending-change', at: 0, until: Number.MAX_SAFE_INTEGER, detail: 'unreadable hold' };
  }
}

function toStatus(record: LockRecord | undefined): LockStatus {
  return record ? { locked: true, until: new Date(record.until), reasons: record.reasons } : { locked: false, until: null, reasons: [] };
}

function checkUser(userId: string): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
    throw new TypeError('userId must be a non-empty string of at most 256 characters');
  }
  return userId;
}

function checkText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw new TypeError(`${name} must be a non-empty string`);
  return value.slice(0, MAX_TEXT);
}

function unknownKind(kind: string, known: string[]): ShieldConfigError {
  return new ShieldConfigError(
    'INVALID_VALUE',
    `No withdrawal-lock duration is configured for change kind "${kind}".`,
    `Add it to options.locks.durations (e.g. { "${kind}": { hours: 24 } }) or use one of: ${known.join(', ')}.`,
  );
}
