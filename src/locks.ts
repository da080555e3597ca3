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

  /** Raw record; rejects when the store cannot answer (callers fail closed). */
  async read(userId: string): Promise<LockRecord | undefined> {
    return this.store.getLock(this.key(userId), this.core.config.now());
  }

  async status(userId: string): Promise<LockStatus> {
    return toStatus(await this.read(checkUser(userId)));
  }

  /** Lock after a change of `kind`; runs from now, never shortens an existing lock. */
  async applyChange(userId: string, kind: string, risky: boolean, detail: string): Promise<LockRecord> {
    const hours = this.durationHours(kind, risky);
    return this.extend(userId, { kind, hours, detail });
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
