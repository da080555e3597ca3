import { createHash, randomBytes, randomUUID, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ExchangeConfigError } from './options.js';

/** One seed user, as in EXAMPLE_USERS. */
export interface SeedUser {
  readonly email: string;
  readonly password: string;
  /**
   * Base32 TOTP secret (at least 16 bytes once decoded, as otplib requires). Absent: the user
   * has no authenticator, and steps up with a code the exchange emails.
   */
  readonly totpSecret?: string;
}

interface PasswordHash {
  readonly salt: Buffer;
  readonly hash: Buffer;
  /** Kept with the hash so raising the cost later still verifies old hashes. */
  readonly cost: number;
}

export interface User {
  readonly id: string;
  email: string;
  totpSecret: string | undefined;
  password: PasswordHash;
}

export const MAX_EMAIL_LENGTH = 320;
export const MAX_PASSWORD_LENGTH = 1024;
export const DEFAULT_SCRYPT_COST = 2 ** 14;
const KEY_LENGTH = 32;
const BASE32_SECRET = /^[A-Z2-7]{26,128}=*$/;

/** Lookup key for an address: the app's own notion of "same email", independent of the shield's. */
export function emailKey(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

/** A seed user's id: the same in every process seeded with the same address. */
export function seedUserId(key: string): string {
  return `u_${createHash('sha256').update(`exchange-user\0${key}`).digest('base64url').slice(0, 22)}`;
}

/**
 * In-memory users with scrypt password hashes. Password checks cost the same for unknown
 * addresses (a dummy hash is checked instead), so response time does not tell an attacker
 * which addresses have accounts.
 */
export class UserStore {
  private readonly byId = new Map<string, User>();
  private readonly byEmail = new Map<string, User>();

  private constructor(
    private readonly cost: number,
    private readonly dummy: PasswordHash,
  ) {}

  static async create(seed: readonly SeedUser[], options: { scryptCost?: number } = {}): Promise<UserStore> {
    const cost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    if (!Number.isInteger(cost) || cost < 2 || (cost & (cost - 1)) !== 0) {
      throw new ExchangeConfigError(`scrypt cost must be a power of two; got ${cost}.`);
    }
    const store = new UserStore(cost, await hashPassword(randomBytes(16).toString('hex'), cost));
    // Hash in parallel (libuv's thread pool), insert in order so duplicates are found in order.
    const hashes = await Promise.all(seed.map((user) => hashPassword(user.password, cost)));
    seed.forEach((user, i) => {
      store.insert(user, hashes[i] as PasswordHash);
    });
    return store;
  }

  get size(): number {
    return this.byId.size;
  }

  async add(seed: SeedUser): Promise<User> {
    return this.insert(seed, await hashPassword(seed.password, this.cost));
  }

  private insert(seed: SeedUser, password: PasswordHash): User {
    const key = emailKey(seed.email);
    if (this.byEmail.has(key)) throw new ExchangeConfigError('Two seed users share one email address.');
    // Derived from the address so every instance seeded with the same users agrees on ids: the
    // shield keys withdrawal locks and challenges by user id, and those are shared through Redis.
    const stable = seedUserId(key);
    const user: User = { id: this.byId.has(stable) ? randomUUID() : stable, email: seed.email.trim(), totpSecret: seed.totpSecret, password };
    this.byId.set(user.id, user);
    this.byEmail.set(key, user);
    return user;
  }

  get(id: string): User | undefined {
    return this.byId.get(id);
  }

  findByEmail(email: string): User | undefined {
    return this.byEmail.get(emailKey(email));
  }

  /** The user if the password is right. Unknown addresses cost one scrypt too. */
  async authenticate(email: string, password: string): Promise<User | undefined> {
    const user = this.findByEmail(email);
    const ok = await checkPassword(user?.password ?? this.dummy, password);
    return user && ok ? user : undefined;
  }

  checkPassword(user: User, password: string): Promise<boolean> {
    return checkPassword(user.password, password);
  }

  async setPassword(user: User, password: string): Promise<void> {
    user.password = await hashPassword(password, this.cost);
  }

  /** False when another account already uses the address. */
  setEmail(user: User, email: string): boolean {
    const key = emailKey(email);
    const owner = this.byEmail.get(key);
    if (owner && owner !== user) return false;
    this.byEmail.delete(emailKey(user.email));
    user.email = email.trim();
    this.byEmail.set(key, user);
    return true;
  }
}

function scryptAsync(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  // 128 * N * r bytes of memory: make room for costs above Node's 32 MiB default ceiling.
  const options: ScryptOptions = { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

async function hashPassword(password: string, cost: number): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return { salt, hash: await scryptAsync(password, salt, cost), cost };
}

async function checkPassword(stored: PasswordHash, password: string): Promise<boolean> {
  const candidate = await scryptAsync(password, stored.salt, stored.cost);
  return timingSafeEqual(candidate, stored.hash);
}

/** Validate a parsed EXAMPLE_USERS document. Errors name the entry, never its values. */
export function parseSeedUsers(document: unknown): SeedUser[] {
  if (!Array.isArray(document)) throw new ExchangeConfigError('EXAMPLE_USERS must be a JSON array of { email, password, totpSecret? }.');
  return document.map((entry: unknown, i) => {
    const where = `EXAMPLE_USERS[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ExchangeConfigError(`${where} must be an object.`);
    const { email, password, totpSecret } = entry as Record<string, unknown>;
    if (typeof email !== 'string' || !email.includes('@') || email.length > MAX_EMAIL_LENGTH || !email.isWellFormed()) {
      throw new ExchangeConfigError(`${where}.email must be an email address of at most ${MAX_EMAIL_LENGTH} characters.`);
    }
    if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH || !password.isWellFormed()) {
      throw new ExchangeConfigError(`${where}.password must be a non-empty string of at most ${MAX_PASSWORD_LENGTH} characters.`);
    }
    if (totpSecret === undefined || totpSecret === null) return { email, password };
    if (typeof totpSecret !== 'string' || !BASE32_SECRET.test(totpSecret)) {
      throw new ExchangeConfigError(`${where}.totpSecret, when present, must be a base32 secret of at least 26 characters (16 bytes).`);
    }
    return { email, password, totpSecret };
  });
}

/** EXAMPLE_USERS: inline JSON (starts with `[`) or a path to a JSON file. */
export async function loadSeedUsers(source: string): Promise<SeedUser[]> {
  const text = source.trimStart().startsWith('[') ? source : await readFile(source, 'utf8');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new ExchangeConfigError('EXAMPLE_USERS is not valid JSON.');
  }
  return parseSeedUsers(document);
}
