import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const API_KEY_PERMISSIONS = ['read', 'trade', 'withdraw'] as const;
export type ApiKeyPermission = (typeof API_KEY_PERMISSIONS)[number];

export interface ApiKey {
  readonly id: string;
  readonly userId: string;
  readonly permissions: readonly ApiKeyPermission[];
  /** SHA-256 of the key secret; the secret itself is shown to the user once. */
  readonly secretHash: string;
  readonly createdAt: number;
}

/**
 * API keys. One with `withdraw` is as good as a password for moving coins, which is why the
 * route that creates keys is a credential change the shield will guard.
 */
export class ApiKeys {
  private readonly keys = new Map<string, ApiKey>();

  create(userId: string, permissions: readonly ApiKeyPermission[]): { key: ApiKey; secret: string } {
    const secret = randomBytes(32).toString('base64url');
    const key: ApiKey = {
      id: randomUUID(),
      userId,
      permissions: [...permissions],
      secretHash: createHash('sha256').update(secret).digest('base64url'),
      createdAt: Date.now(),
    };
    this.keys.set(key.id, key);
    return { key, secret };
  }

  byUser(userId: string): ApiKey[] {
    return [...this.keys.values()].filter((k) => k.userId === userId);
  }
}
