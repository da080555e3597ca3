import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { MemoCache } from './memo-cache.js';
import { random } from './random-pool.js';
import type { DeviceOptions } from '../config/config.js';

/**
 * A device is a random 128-bit id in a cookie, signed so a client cannot present another
 * device's id without having been given it. "Known" is a property of an (account, device)
 * pair kept in the store, not of the cookie, so a stolen cookie alone unlocks nothing.
 */
export class DeviceCookie {
  constructor(
    private readonly secret: string,
    private readonly options: DeviceOptions,
  ) {}

  /** The device id from a valid cookie, or undefined. */
  read(req: Request): string | undefined {
    const header = req.headers.cookie;
    if (typeof header !== 'string' || header.length > 8192) return undefined;
    const value = findCookie(header, this.options.cookieName);
    if (!value) return undefined;
    const dot = value.indexOf('.');
    if (dot !== 22 || value.length !== 45) return undefined;
    // A cookie verified before is taken as it is (only valid values are remembered, and a
    // whole-value lookup tells nothing about how much of a forged signature was right). The
    // id comes back as the same string every time, so what is keyed by it hashes it once.
    const known = this.verified.peek(value);
    if (known !== undefined) return known;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.signatures.get(id, () => this.sign(id)));
    if (!(given.length === expected.length && timingSafeEqual(given, expected))) return undefined;
    this.verified.set(value, id);
    return id;
  }

  /** Whole cookie values that verified recently, and their device id (bounded). */
  private readonly verified = new MemoCache<string>(50_000);

  /** Signatures of recently seen device ids (bounded): returning devices skip the HMAC. */
  private readonly signatures = new MemoCache<string>(50_000);

  /** A fresh device id. */
  mint(): string {
    return random.base64url(16);
  }

  write(req: Request, res: Response, id: string): void {
    const secure = this.options.secure === 'auto' ? req.secure : this.options.secure;
    const maxAge = Math.round(this.options.maxAgeDays * 86_400);
    const attrs = [`${this.options.cookieName}=${id}.${this.sign(id)}`, 'Path=/', `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Lax'];
    if (secure) attrs.push('Secure');
    res.append('Set-Cookie', attrs.join('; '));
  }

  private sign(id: string): string {
    return createHmac('sha256', this.secret).update('device-cookie\0').update(id).digest('base64url').slice(0, 22);
  }
}

function findCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
