import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Outbox } from './outbox.js';
import type { User, UserStore } from './users.js';

/** How long a code sent to a new address stays valid. */
const CODE_TTL_MS = 15 * 60_000;
/** Wrong codes before a pending change is dropped (a 6-digit code: 5 in 10^6 per address sent). */
const MAX_CODE_ATTEMPTS = 5;
/** Changes one user may start per hour: the outbox is not a way to mail anyone at will. */
export const MAX_STARTS_PER_HOUR = 10;

interface Pending {
  readonly email: string;
  readonly codeHash: Buffer;
  /** False when the address belongs to an account: its confirm can never succeed. */
  readonly deliverable: boolean;
  readonly expiresAt: number;
  attempts: number;
}

const hashCode = (code: string) => createHash('sha256').update(code).digest();

/**
 * Email changes in two steps, so the answer never says whether an address has an account:
 * `start` always "sends a code"; to a free address it sends the code, to one in use it sends a
 * notice instead (the address's owner learns someone tried; the requester learns nothing, and
 * the confirm can never succeed). `confirm` makes the change, and it is the step the shield
 * guards and locks withdrawals after. Both paths do the same work, in the same order.
 */
export class EmailChanges {
  private readonly pending = new Map<string, Pending>();
  private readonly starts = new Map<string, { count: number; windowEnds: number }>();

  constructor(
    private readonly users: UserStore,
    private readonly outbox: Outbox,
    private readonly now: () => number = Date.now,
  ) {}

  /** False when the user has started too many changes this hour. */
  start(user: User, email: string): boolean {
    const now = this.now();
    const starts = this.starts.get(user.id);
    const window = starts && starts.windowEnds > now ? starts : { count: 0, windowEnds: now + 3_600_000 };
    if (window.count >= MAX_STARTS_PER_HOUR) return false;
    window.count++;
    this.starts.set(user.id, window);

    const owner = this.users.findByEmail(email);
    const deliverable = owner === undefined;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    this.pending.set(user.id, { email, codeHash: hashCode(code), deliverable, expiresAt: now + CODE_TTL_MS, attempts: 0 });
    if (deliverable) this.outbox.send(email, 'Confirm your new email address', code);
    else this.outbox.send(email, 'Someone tried to move an exchange account to this address', '');
    return true;
  }

  /** The new address when `code` confirms the user's pending change (which it then applies). */
  confirm(user: User, code: string): string | undefined {
    const pending = this.pending.get(user.id);
    if (!pending || pending.expiresAt <= this.now()) {
      this.pending.delete(user.id);
      return undefined;
    }
    pending.attempts++;
    if (!timingSafeEqual(hashCode(code), pending.codeHash)) {
      if (pending.attempts >= MAX_CODE_ATTEMPTS) this.pending.delete(user.id);
      return undefined;
    }
    this.pending.delete(user.id);
    // Taken since the code was sent (or from the start): the change cannot happen.
    if (!pending.deliverable || !this.users.setEmail(user, pending.email)) return undefined;
    return user.email;
  }

  /** For tests: whether the user has a change waiting for its code. */
  hasPending(user: User): boolean {
    return this.pending.has(user.id);
  }
}
