import { timingSafeEqual } from 'node:crypto';
import { hmacSha256 } from './hmac.js';
import type { Request, Response } from 'express';
import { MemoCache } from './memo-cache.js';
import { random } from './random-pool.js';
import type { DeviceOptions } from '../config/config.js';

/** A device a valid cookie named. */
export interface CookieDevice<Visit = unknown> {
  /** The id in the cookie (to re-issue it); never stored or logged. */
  readonly raw: string;
  /** Its HMAC-keyed id. */
  readonly keyed: string;
  /**
   * What the caller last made of a request from this device (see `ShieldEngine.visit`),
   * kept with the verified cookie and dropped with it: a returning device's next request then
   * costs one lookup, not one per identifier. In-process only, never stored or logged.
   */
  visit: Visit | undefined;
}

/** Devices remembered with their verified cookie (and their visit: ~3.4 KB each with its read notes, ~70 MB at most). */
const VERIFIED_DEVICES = 20_000;

/**
 * A device is a random 128-bit id in a cookie, signed so a client cannot present another
 * device's id without having been given it. "Known" is a property of an (account, device)
 * pair kept in the store, not of the cookie, so a stolen cookie alone unlocks nothing.
 */
export class DeviceCookie<Visit = unknown> {
  private readonly mac: (message: string) => string;

  constructor(
    secret: string,
    private readonly options: DeviceOptions,
    /** The device id's keyed form, the only one that may reach a store, log or event. */
    private readonly keyId: (raw: string) => string,
  ) {
    this.mac = hmacSha256(secret);
  }

  /** The device from a valid cookie, or undefined. */
  read(req: Request): CookieDevice<Visit> | undefined {
    const header = req.headers.cookie;
    if (typeof header !== 'string' || header.length > 8192) return undefined;
    const value = findCookie(header, this.options.cookieName);
    if (!value) return undefined;
    const dot = value.indexOf('.');
    if (dot !== 22 || value.length !== 45) return undefined;
    // A cookie verified before is taken as it is (only valid values are remembered, and a
    // whole-value lookup tells nothing about how much of a forged signature was right), with
    // its keyed id: a returning device costs one lookup, no HMAC.
    const known = this.verified.peek(value);
    if (known !== undefined) return known;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.signatures.get(id, () => this.sign(id)));
    if (!(given.length === expected.length && timingSafeEqual(given, expected))) return undefined;
    const device: CookieDevice<Visit> = { raw: id, keyed: this.keyId(id), visit: undefined };
    this.verified.set(value, device);
    return device;
  }

  /**
   * Whole cookie values that verified recently, and their device (bounded). The caller's
   * visit (read plans, ~2 KB) lives here too, so the bound is the caller's memory bound.
   */
  private readonly verified = new MemoCache<CookieDevice<Visit>>(VERIFIED_DEVICES);

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
    return this.mac(`device-cookie\0${id}`).slice(0, 22);
  }
}

/**
 * The value of cookie `name` in a Cookie header (the first one, as Express's parser takes it),
 * scanning in place: splitting the header made an array and a string per cookie per request.
 */
export function findCookie(header: string, name: string): string | undefined {
  let start = 0;
  // The next `=` at or after `start`, kept across parts: searching afresh from each part would
  // rescan the rest of the header for every `=`-less part (quadratic in a crafted header).
  let eq = -1;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    if (eq !== Number.POSITIVE_INFINITY && eq < start) {
      eq = header.indexOf('=', start);
      if (eq < 0) eq = Number.POSITIVE_INFINITY;
    }
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}
