import { randomBytes } from 'node:crypto';
import type { LockOptions } from '../config/config.js';
import type { EventEmitter } from 'node:events';
import type { ShieldEventMap } from '../engine/events.js';
import { resolveShape, type Output, type Shape, number, string } from '../config/schema.js';
import { ShieldArgumentError, ShieldConfigError } from '../errors/shield-error.js';
import { storeKeys } from '../stores/key-layout.js';
import type { LockReason, LockRecord, Store } from '../stores/store.js';

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
 * Reasons a hold record keeps (a hold and its settlement are two). A full record may have
 * dropped a hold that is still pending, so a full record counts whole: failing towards locked.
 */
const MAX_HOLD_REASONS = 64;
/**
 * A hold is written before the app's handler runs, so it outlasts the lock the change would
 * record by this margin: a change whose lock never got recorded is still held for the change
 * kind's full duration counted from the change itself, not from the hold.
 */
const HOLD_MARGIN_MS = 10 * 60_000;
/** Kind of the reason that settles a hold (its change was refused, or its lock is recorded). */
const SETTLED = 'settled';

/** One credential change's hold on withdrawals, named so that change alone can settle it. */
export interface PendingChange {
  readonly userId: string;
  readonly kind: string;
  readonly ref: string;
  readonly at: number;
  /** Epoch ms the hold lasts until if it is never settled. */
  readonly until: number;
}

/**
 * Locks live in the primary store only. Were they to fall back to an in-process store during an
 * outage, another instance would not see them and a withdrawal could slip through: the
 * opposite of failing closed.
 */
/** What locks need of the engine: the primary store, keyed user ids, the clock, events. */
export interface LockHost extends Pick<EventEmitter<ShieldEventMap>, 'emit'> {
  readonly store: Store;
  userKey(userId: string): string;
  now(): number;
}

export class Locks implements WithdrawalLocks {
  constructor(
    private readonly host: LockHost,
    private readonly options: LockOptions,
  ) {}

  private get store(): Store {
    return this.host.store;
  }

  private key(userId: string): string {
    return storeKeys.withdrawalLock(this.host.userKey(userId));
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
    return storeKeys.lockHold(this.host.userKey(userId));
  }

  /**
   * The lock in force, including the holds of changes not yet settled; rejects when the store
   * cannot answer (callers fail closed).
   */
  async read(userId: string): Promise<LockRecord | undefined> {
    const now = this.host.now();
    const [lock, holds] = await Promise.all([this.store.getLock(this.key(userId), now), this.store.getLock(this.holdKey(userId), now)]);
    const held = pendingHolds(holds, now);
    if (!held) return lock;
    return { until: Math.max(lock?.until ?? 0, held.until), reasons: [...(lock?.reasons ?? []), ...held.reasons] };
  }

  async status(userId: string): Promise<LockStatus> {
    return toStatus(await this.read(checkUser(userId)));
  }

  /** Lock after a change of `kind`; runs from now, never shortens an existing lock. */
  async applyChange(userId: string, kind: string, risky: boolean): Promise<LockRecord> {
    const hours = this.durationHours(kind, risky);
    return this.extend(userId, { kind, hours, detail: `${kind} changed${risky ? ' after step-up' : ''}` });
  }

  /** A hold for a change of `kind` about to happen: as long as the lock the change would record. */
  pending(userId: string, kind: string, risky: boolean): PendingChange {
    const at = this.host.now();
    const until = at + Math.round(this.durationHours(kind, risky) * 3_600_000) + HOLD_MARGIN_MS;
    return { userId, kind, ref: randomBytes(12).toString('base64url'), at, until };
  }

  /**
   * Write the hold before the change may happen. It is a record of its own, not part of the
   * lock, so that a refused change can settle it without ever shortening a real lock; and it
   * lasts the change's full duration, so if the process dies or the store stalls after the
   * change, before its lock is recorded, withdrawals stay held as long as the lock would have.
   */
  async hold(change: PendingChange): Promise<void> {
    const reason: LockReason = { kind: change.kind, at: change.at, until: change.until, detail: `${change.kind} change pending`, ref: change.ref };
    await this.store.extendLock(this.holdKey(change.userId), reason, this.host.now(), MAX_HOLD_REASONS);
  }

  /**
   * Settle one change's hold: appended, never removed or rewritten, so a concurrent change's
   * hold is untouched and a settlement that fails leaves the hold (towards locked).
   */
  async settle(change: PendingChange): Promise<void> {
    const now = this.host.now();
    await this.store.extendLock(this.holdKey(change.userId), { kind: SETTLED, at: now, until: now, ref: change.ref }, now, MAX_HOLD_REASONS);
  }

  async lock(userId: string, options: AdminLockOptions): Promise<LockStatus> {
    checkUser(userId);
    const { hours, reason, actor } = adminArguments(adminLockShape, options, 'locks.lock() options');
    return toStatus(await this.extend(userId, { kind: 'admin', hours, detail: reason, actor: actor.slice(0, MAX_TEXT) }));
  }

  async unlock(userId: string, options: AdminUnlockOptions): Promise<LockStatus> {
    checkUser(userId);
    const { reason, actor } = adminArguments(adminUnlockShape, options, 'locks.unlock() options');
    const now = this.host.now();
    // An operator's unlock lifts pending holds too; a change still in flight locks again.
    const removed = await Promise.all([this.store.clearLock(this.key(userId), now), this.store.clearLock(this.holdKey(userId), now)]);
    const wasLockedUntil = Math.max(0, ...removed.map((r) => r?.until ?? 0)) || null;
    this.host.emit('withdrawals.unlocked', { userId, reason: reason.slice(0, MAX_TEXT), actor: actor.slice(0, MAX_TEXT), at: now, wasLockedUntil });
    return toStatus(undefined);
  }

  private async extend(userId: string, cause: { kind: string; hours: number; detail: string; actor?: string }): Promise<LockRecord> {
    const now = this.host.now();
    const reason: LockReason = {
      kind: cause.kind,
      at: now,
      until: now + Math.round(cause.hours * 3_600_000),
      detail: cause.detail.slice(0, MAX_TEXT),
      ...(cause.actor ? { actor: cause.actor } : {}),
    };
    const record = await this.store.extendLock(this.key(userId), reason, now, this.options.maxReasons);
    this.host.emit('withdrawals.locked', { userId, until: record.until, cause: reason, reasons: record.reasons, at: now });
    return record;
  }
}

/** The holds of a hold record that are neither settled nor over; a full record counts whole. */
function pendingHolds(record: LockRecord | undefined, now: number): LockRecord | undefined {
  if (!record) return undefined;
  const holds = record.reasons.filter((r) => r.kind !== SETTLED);
  if (record.reasons.length >= MAX_HOLD_REASONS) return { until: record.until, reasons: holds };
  const settled = new Set(record.reasons.filter((r) => r.kind === SETTLED).map((r) => r.ref));
  const pending = holds.filter((r) => r.until > now && !settled.has(r.ref));
  if (pending.length === 0) return undefined;
  return { until: Math.max(...pending.map((r) => r.until)), reasons: pending };
}

function toStatus(record: LockRecord | undefined): LockStatus {
  return record ? { locked: true, until: new Date(record.until), reasons: record.reasons } : { locked: false, until: null, reasons: [] };
}

function checkUser(userId: string): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
    throw new ShieldArgumentError(`userId must be a non-empty string of at most 256 characters, got ${describeUserId(userId)}`, "Pass the app's own user id.");
  }
  return userId;
}

function describeUserId(userId: unknown): string {
  return typeof userId === 'string' ? `${userId.length} characters` : typeof userId;
}

/** Free text of the audit trail: said, and short enough to keep. */
const text = () =>
  string()
    .refine((t) => (t.trim().length === 0 ? { problem: '% is empty.', fix: 'Say who and why, e.g. the ticket number.' } : undefined))
    .required();

/** The admin API's options, declared once. */
const adminLockShape = {
  /** How long to lock, up to a year. */
  hours: number({ positive: true, max: 24 * 366 }).required(),
  /** Why, for the audit trail (kept with the lock and sent with the event). */
  reason: text(),
  /** Who, for the audit trail. */
  actor: text(),
};
const adminUnlockShape = { reason: text(), actor: text() };

/** The admin API is called at run time: a bad argument is the caller's, said as `INVALID_ARGUMENT`. */
function adminArguments<S extends Shape>(shape: S, options: unknown, where: string): Output<S> {
  try {
    return resolveShape(shape, options ?? {}, where);
  } catch (error) {
    if (!(error instanceof ShieldConfigError)) throw error;
    throw new ShieldArgumentError(error.message.replace(/^\[account-shield \w+\] /, '').replace(/ Fix: .*$/, ''), error.fix);
  }
}

function unknownKind(kind: string, known: string[]): ShieldConfigError {
  return new ShieldConfigError(
    'INVALID_VALUE',
    `No withdrawal-lock duration is configured for change kind "${kind}".`,
    `Add it to options.locks.durations (e.g. { "${kind}": { hours: 24 } }) or use one of: ${known.join(', ')}.`,
  );
}
