import ipaddr from 'ipaddr.js';
import type { Request } from 'express';
import type { CookieDevice } from './device-cookie.js';
import type { Keyer } from './keyer.js';
import { MemoCache } from './memo-cache.js';
import type { Logger } from '../config/logger.js';

/** A request reduced to what signals need, every identifier HMAC-keyed. */
export interface RequestContext {
  readonly ip: string;
  readonly subnet: string;
  /** Keyed IPv6 /48; undefined for IPv4 (see `VelocityOptions.site`). */
  readonly site?: string;
  /** Device id from a valid signed cookie; undefined for a new or tampered cookie. */
  readonly device?: string;
  /** Raw device id (to re-issue the cookie); never stored or logged. */
  readonly rawDevice?: string;
  /** The source parts came from the memo (nothing for `ContextReader.remember` to do). */
  readonly remembered: boolean;
  /** The client address the source parts were keyed from (raw: never stored or logged). */
  readonly address: string;
}

/**
 * Reads the client address the way the app configured Express to (`trust proxy`), and warns
 * once about configurations that let clients choose their own address.
 */
export class ContextReader {
  private warnedXff = false;
  private warnedTrustAll = false;

  constructor(
    /** Best uncached: `sources` already memoises what it keys. */
    private readonly key: Keyer,
    private readonly logger: Logger,
  ) {}

  read(req: Request, device: CookieDevice | undefined): RequestContext {
    return this.readAt(this.address(req), device);
  }

  /** `read` for a client address already taken from the request (`address`). */
  readAt(address: string, device: CookieDevice | undefined): RequestContext {
    // Returning clients come back from the same address: parsing and keying it once per
    // address (bounded memo) saves a parse and three HMAC lookups per request. What is
    // remembered is up to the caller (`remember`): a stuffing run rotating addresses would
    // only fill the memo with sources never seen again.
    const memoised = this.sources.peek(address);
    const source = memoised ?? this.keySource(address);
    return { ip: source.ip, subnet: source.subnet, site: source.site, device: device?.keyed, rawDevice: device?.raw, remembered: memoised !== undefined, address };
  }

  /** Remember the source parts of a request read as `ctx`: it will be seen again. */
  remember(ctx: RequestContext): void {
    if (ctx.remembered) return;
    if (this.sources.peek(ctx.address) === undefined) this.sources.set(ctx.address, { ip: ctx.ip, subnet: ctx.subnet, site: ctx.site });
  }

  private readonly sources = new MemoCache<Pick<RequestContext, 'ip' | 'subnet' | 'site'>>(50_000);

  private keySource(address: string): Pick<RequestContext, 'ip' | 'subnet' | 'site'> {
    // Nearly every client address is a plain dotted quad: it is its own normal form, and its
    // subnet is a slice of it, so the general parser (a few µs per fresh address) is skipped.
    const subnet = canonicalIPv4Subnet(address);
    if (subnet !== undefined) return { ip: this.key('ip', address), subnet: this.key('net', subnet), site: undefined };
    const parsed = parseClientAddress(address);
    // Whatever does not parse is one source: rotating junk (or ports) must not mint new ones.
    if (!parsed) return { ip: this.key('ip', UNPARSED), subnet: this.key('net', UNPARSED) };
    return {
      ip: this.key('ip', parsed.toNormalizedString()),
      subnet: this.key('net', subnetOf(parsed)),
      site: parsed.kind() === 'ipv6' ? this.key('net', siteOf(parsed as ipaddr.IPv6)) : undefined,
    };
  }

  /** The client address, read the way the app configured Express to (`trust proxy`). */
  address(req: Request): string {
    const trust = req.app?.get?.('trust proxy');
    if (trust === true) {
      // Fall back to the socket address rather than believe a client-written header.
      if (!this.warnedTrustAll) {
        this.warnedTrustAll = true;
        this.logger.error(
          "[account-shield TRUST_PROXY_TRUE] Express 'trust proxy' is true: X-Forwarded-For is client-controlled. Using the socket address instead; set 'trust proxy' to your proxy count or addresses.",
        );
      }
      return req.socket?.remoteAddress ?? 'unknown';
    }
    if (!trust && req.headers['x-forwarded-for'] !== undefined && !this.warnedXff) {
      this.warnedXff = true;
      this.logger.warn(
        "[account-shield UNEXPECTED_X_FORWARDED_FOR] A request carried X-Forwarded-For but 'trust proxy' is off, so every client behind your proxy shares one address. If the app is behind a proxy, set 'trust proxy' to its hop count or addresses.",
      );
    }
    return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
  }
}

const UNPARSED = 'unparsed';
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_V6 = /^\[([0-9A-Fa-f:.]+)(?:%[^\]]*)?\](?::\d{1,5})?$/;

/**
 * The client address as some proxies write it — `a.b.c.d:port`, `[v6]`, `[v6]:port`, a zone
 * id — reduced to the address itself, so a rotating port is the same source. Undefined when
 * nothing of it parses.
 */
export function parseClientAddress(raw: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (raw.length > 64) return undefined;
  const text = raw.trim();
  const candidate = IPV4_WITH_PORT.exec(text)?.[1] ?? BRACKETED_V6.exec(text)?.[1] ?? text.replace(/%.*$/, '');
  try {
    // `process` turns IPv4-mapped IPv6 (::ffff:a.b.c.d) into plain IPv4, so one client is one key.
    return ipaddr.process(candidate);
  } catch {
    return undefined;
  }
}

const DOT = 46;
const ZERO = 48;
const NINE = 57;

/**
 * The /24 of `text` when it is an IPv4 address in canonical form — four decimal octets of at
 * most 255, no leading zeros — for which `text` is its own normalised string; otherwise
 * undefined, and the general parser decides (a leading zero, say, reads as octal there).
 */
export function canonicalIPv4Subnet(text: string): string | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  let octets = 0;
  let value = 0;
  let digits = 0;
  let thirdDot = -1;
  // One pass; the end of the text closes the fourth octet as a dot would.
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || value > 255 || ++octets > 4) return undefined;
      if (octets === 3) thirdDot = i;
      value = 0;
      digits = 0;
    } else if (c >= ZERO && c <= NINE) {
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + (c - ZERO);
      if (++digits > 3) return undefined;
    } else {
      return undefined;
    }
  }
  return octets === 4 ? `${text.slice(0, thirdDot)}.0/24` : undefined;
}

/** /48 for IPv6: what one site (one hosting customer) is usually given. */
export function siteOf(address: ipaddr.IPv6): string {
  return `${address.parts
    .slice(0, 3)
    .map((p) => p.toString(16))
    .join(':')}::/48`;
}

/** /24 for IPv4, /64 for IPv6: the units a hosting provider hands one customer. */
export function subnetOf(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (address.kind() === 'ipv4') {
    const octets = (address as ipaddr.IPv4).octets;
    return `${octets[0]}.${octets[1]}.${octets[2]}.0/24`;
  }
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
