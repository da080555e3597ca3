import { createHmac } from 'node:crypto';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { DeviceCookie, findCookie } from '../../src/identity/device-cookie.js';

const secret = 'd'.repeat(40);
const options = resolveConfig({ secret }).device;
const withCookie = (cookie: string) => ({ headers: { cookie } }) as unknown as Request;

/** The header scan as it was written first: split on `;`, then on the first `=`. */
function splitFind(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

describe('DeviceCookie', () => {
  it('still accepts a cookie signed as earlier versions signed it (plain HMAC-SHA-256 of the id under the secret)', () => {
    const keyed: string[] = [];
    const cookie = new DeviceCookie(secret, options, (raw) => {
      keyed.push(raw);
      return `keyed:${raw}`;
    });
    const id = 'AAAAAAAAAAAAAAAAAAAAAA';
    const signature = createHmac('sha256', secret).update('device-cookie\0').update(id).digest('base64url').slice(0, 22);
    expect(cookie.read(withCookie(`${options.cookieName}=${id}.${signature}`))).toEqual({ raw: id, keyed: `keyed:${id}` });
    // A returning device is keyed once, not on every request.
    expect(cookie.read(withCookie(`a=1; ${options.cookieName}=${id}.${signature}`))?.keyed).toBe(`keyed:${id}`);
    expect(keyed).toEqual([id]);
    expect(cookie.read(withCookie(`${options.cookieName}=${id}.${signature.slice(0, -1)}B`))).toBeUndefined();
  });

  it('finds a cookie in a header exactly as splitting the header would, wherever it sits', () => {
    const name = options.cookieName;
    const headers = [
      `${name}=v1`,
      `a=1; ${name}=v2; b=2`,
      `a=1;${name}=v3`,
      `  ${name} = v4 ;x=y`,
      `x${name}=no; ${name}x=no`,
      `a; ${name}=v5`,
      `=junk; ${name}=v6`,
      `${name}=first; ${name}=second`,
      `a=b=c; ${name}=v7=tail`,
      `${name}=`,
      `;;; ${name}=v8;;`,
      'a=1; b=2',
      '',
      `${name}`,
      `a=1; ${name}`,
    ];
    for (const header of headers) expect(findCookie(header, name), header).toBe(splitFind(header, name));
    const parts = ['a=1', `${name}=v`, 'b', ' =x', `${name}=w`, 'c=d=e', ''];
    for (let trial = 0; trial < 500; trial++) {
      const header = Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => parts[Math.floor(Math.random() * parts.length)]).join(Math.random() < 0.5 ? '; ' : ';');
      expect(findCookie(header, name), header).toBe(splitFind(header, name));
    }
  });
});

describe('findCookie on a crafted header', () => {
  it('passes over each character a bounded number of times: thousands of `=`-less parts before the cookie', () => {
    const name = options.cookieName;
    const header = `${'a;'.repeat(4_000)}${name}=v`;
    // Counted, not timed: how many characters the `=` and `;` searches pass over in all.
    let scanned = 0;
    const indexOf = String.prototype.indexOf;
    String.prototype.indexOf = function (this: string, search: string, from?: number) {
      const at = indexOf.call(this, search, from);
      scanned += (at < 0 ? this.length : at + 1) - (from ?? 0);
      return at;
    };
    let found: string | undefined;
    try {
      found = findCookie(header, name);
    } finally {
      String.prototype.indexOf = indexOf;
    }
    expect(found).toBe('v');
    expect(scanned).toBeLessThan(3 * header.length);
  });
});
