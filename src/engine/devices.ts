import type { Request, Response } from 'express';
import type { DeviceOptions } from '../config/config.js';
import type { DeviceCookie } from '../identity/device-cookie.js';
import type { Keyer } from '../identity/keyer.js';
import { storeKeys } from '../stores/key-layout.js';
import type { Store } from '../stores/store.js';

/** How long the typo path's "second factor passed" lasts for the next login from that device. */
const SECOND_FACTOR_PASS_MS = 10 * 60_000;
const MAX_INDEXED_DEVICES = 20;
/** A device remembered within this long needs no write on its next login. */
const DEVICE_REFRESH_MS = 86_400_000;

export interface DeviceMemoryDeps {
  readonly run: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
  readonly key: Keyer;
  readonly cookie: DeviceCookie;
  readonly options: DeviceOptions;
  readonly now: () => number;
}

export interface KnownDevice {
  readonly id: string;
  readonly lastSeen: number;
}

/**
 * Which devices have passed a second factor for which account (keyed ids only), the index the
 * security page lists, and the typo path's single-use pass.
 */
export class DeviceMemory {
  constructor(private readonly deps: DeviceMemoryDeps) {}

  private get ttlMs(): number {
    return this.deps.options.knownForDays * 86_400_000;
  }

  /** Remember that `account` logged in from this device (minting a device id if needed). */
  markKnown(req: Request, res: Response, account: string, rawDevice: string | undefined, seenAt?: number): Promise<void> | undefined {
    // A device remembered within the last day needs no write: returning users, the bulk of
    // logins, then cost the shield one read (and no promise to wait for).
    if (rawDevice !== undefined && seenAt !== undefined && this.deps.now() - seenAt < DEVICE_REFRESH_MS) return undefined;
    return this.rememberCookie(req, res, account, rawDevice);
  }

  private async rememberCookie(req: Request, res: Response, account: string, rawDevice: string | undefined): Promise<void> {
    const raw = rawDevice ?? this.deps.cookie.mint();
    await this.remember(account, this.deps.key('dev', raw));
    this.deps.cookie.write(req, res, raw);
  }

  /** Make a keyed device known for an account. */
  async remember(account: string, device: string): Promise<void> {
    const ttl = this.ttlMs;
    await this.deps.run((s) => s.set(storeKeys.knownDevice(account, device), String(this.deps.now()), ttl));
    // The index only feeds the security page, so it is updated off the login's critical path.
    this.index(account, device, ttl).catch(() => undefined);
  }

  private async index(account: string, device: string, ttl: number): Promise<void> {
    const key = storeKeys.deviceIndex(account);
    const now = this.deps.now();
    const entries = (await this.list(account)).filter((d) => d.id !== device && now - d.lastSeen < ttl);
    entries.push({ id: device, lastSeen: now });
    await this.deps.run((s) => s.set(key, JSON.stringify(entries.slice(-MAX_INDEXED_DEVICES)), ttl));
  }

  /** Devices known for an account, newest last. */
  async known(account: string): Promise<KnownDevice[]> {
    const now = this.deps.now();
    return (await this.list(account)).filter((d) => now - d.lastSeen < this.ttlMs);
  }

  private async list(account: string): Promise<KnownDevice[]> {
    const values = await this.deps.run(async (s) => (await s.read({ counters: [], keys: [storeKeys.deviceIndex(account)] })).values);
    return parseDeviceIndex(values[0]);
  }

  /**
   * The typo path: this device just passed the account's second factor, but with a wrong
   * password. Its next login with the right password needs no second code (once, for minutes).
   */
  async grantPass(account: string, device: string): Promise<void> {
    await this.deps.run((s) => s.set(storeKeys.secondFactorPass(account, device), '1', SECOND_FACTOR_PASS_MS));
  }

  /** Use up a pass (single use: only one concurrent login can take it). */
  async takePass(account: string, device: string): Promise<boolean> {
    return (await this.deps.run((s) => s.take(storeKeys.secondFactorPass(account, device)))) !== undefined;
  }
}

function parseDeviceIndex(raw: string | undefined): KnownDevice[] {
  if (raw === undefined) return [];
  try {
    const value = JSON.parse(raw) as unknown;
    return Array.isArray(value)
      ? value.filter((d): d is KnownDevice => typeof d?.id === 'string' && typeof d?.lastSeen === 'number')
      : [];
  } catch {
    return [];
  }
}
