import { createHash, randomBytes } from 'node:crypto';

export interface Session {
  readonly userId: string;
  /** SHA-256 of the bearer token: what the store is keyed by. */
  readonly tokenHash: string;
  /** When the session authenticated: the shield asks old sessions to step up before changes. */
  readonly startedAt: number;
  readonly expiresAt: number;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Bearer sessions. Tokens are 256-bit random values handed to the client once; only their
 * SHA-256 is kept, so a dump of this store cannot be replayed as logins. (A plain hash is
 * enough here: the input is random, not a guessable password.)
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly byUser = new Map<string, Set<string>>();

  constructor(private readonly options: { ttlSec?: number; now?: () => number } = {}) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  issue(userId: string): string {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const now = this.now();
    const session: Session = { userId, tokenHash, startedAt: now, expiresAt: now + (this.options.ttlSec ?? 12 * 3600) * 1000 };
    this.sessions.set(tokenHash, session);
    const mine = this.byUser.get(userId) ?? new Set<string>();
    this.pruneExpired(mine);
    mine.add(tokenHash);
    this.byUser.set(userId, mine);
    return token;
  }

  /** The live session for a presented token, or undefined for anything malformed, unknown or expired. */
  lookup(token: unknown): Session | undefined {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
    const tokenHash = hashToken(token);
    const session = this.sessions.get(tokenHash);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.drop(tokenHash);
      return undefined;
    }
    return session;
  }

  revoke(token: string): void {
    this.drop(hashToken(token));
  }

  /**
   * End every session of `userId` except the one of `keepToken` (the session that made a
   * credential change), so whoever else holds a token is logged out. Returns how many ended.
   */
  revokeOthers(userId: string, keepToken: string | undefined): number {
    const mine = this.byUser.get(userId);
    if (!mine) return 0;
    const keepTokenHash = keepToken === undefined ? undefined : hashToken(keepToken);
    let ended = 0;
    for (const tokenHash of [...mine]) {
      if (tokenHash === keepTokenHash) continue;
      this.drop(tokenHash);
      ended++;
    }
    return ended;
  }

  count(userId: string): number {
    const mine = this.byUser.get(userId);
    if (!mine) return 0;
    this.pruneExpired(mine);
    return mine.size;
  }

  private pruneExpired(hashes: Set<string>): void {
    const now = this.now();
    for (const tokenHash of hashes) {
      const session = this.sessions.get(tokenHash);
      if (!session || session.expiresAt <= now) this.drop(tokenHash);
    }
  }

  private drop(tokenHash: string): void {
    const session = this.sessions.get(tokenHash);
    this.sessions.delete(tokenHash);
    if (!session) return;
    const mine = this.byUser.get(session.userId);
    mine?.delete(tokenHash);
    if (mine && mine.size === 0) this.byUser.delete(session.userId);
  }
}
