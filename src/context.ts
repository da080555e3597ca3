import ipaddr from 'ipaddr.js';
import type { Request } from 'express';
import type { Keyer } from './keys.js';
import type { Logger } from './types.js';

/** A request reduced to what signals need, every identifier HMAC-keyed. */
export interface RequestContext {
  readonly ip: string;
  readonly subnet: string;
  /** Device id from a valid signed cookie; undefined for a new or tampered cookie. */
  readonly device?: string;
  /** Raw device id (to re-issue the cookie); never stored or logged. */
  readonly rawDevice?: string;
}

/**
 * Reads the client address the way the app configured Express to (`trust proxy`), and warns
 * once about configurations that let clients choose their own address.
 */
export class ContextReader {
  private warnedXff = false;
  private warnedTrustAll = false;

  constructor(
    private readonly key: Keyer,
    private readonly logger: Logger,
  ) {}

  read(req: Request, rawDevice: string | undefined): RequestContext {
    const address = this.clientAddress(req);
    const parsed = parseAddress(address);
    return {
      ip: this.key('ip', parsed ? parsed.toNormalizedString() : address),
      subnet: this.key('net', parsed ? subnetOf(parsed) : address),
      device: rawDevice === undefined ? undefined : this.key('dev', rawDevice),
      rawDevice,
    };
  }

  private clientAddress(req: Request): string {
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

function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    // `process` turns IPv4-mapped IPv6 (::ffff:a.b.c.d) into plain IPv4, so one client is one key.
    return ipaddr.process(address);
  } catch {
    return undefined;
  }
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
