import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { canonicalIPv4Subnet, ContextReader, parseClientAddress, subnetOf } from '../../src/identity/client-context.js';
import { createKeyer } from '../../src/identity/keyer.js';

const logger = { warn: () => {}, error: () => {}, info: () => {} };
const req = (ip: string) => ({ ip, headers: {}, socket: { remoteAddress: ip } }) as unknown as Request;

describe('ContextReader: which sources are remembered', () => {
  it('keys a source the same whether or not it is remembered, and remembers only what it is told to', () => {
    let keyed = 0;
    const key = createKeyer('c'.repeat(40), 0);
    const counting = createKeyer('c'.repeat(40), 0);
    const reader = new ContextReader((kind, value) => {
      keyed++;
      return counting(kind, value);
    }, logger);
    const first = reader.read(req('198.51.100.7'), undefined);
    expect(first.ip).toBe(key('ip', '198.51.100.7'));
    expect(first.remembered).toBe(false);
    // A stranger's source is keyed afresh each time: nothing was kept for it.
    const again = reader.read(req('198.51.100.7'), undefined);
    expect([again.remembered, keyed]).toEqual([false, 4]);
    reader.remember(again);
    const known = reader.read(req('198.51.100.7'), undefined);
    expect([known.remembered, known.ip, known.subnet, keyed]).toEqual([true, first.ip, first.subnet, 4]);
    // Another address is its own source.
    expect(reader.read(req('198.51.100.8'), undefined).remembered).toBe(false);
  });
});

describe('canonicalIPv4Subnet: the parser-free path agrees with the parser', () => {
  it('answers for canonical dotted quads with what ipaddr would give, and leaves every other spelling to it', () => {
    const random = (n: number) => Math.floor(Math.random() * n);
    const canonical = Array.from({ length: 2_000 }, () => [random(256), random(256), random(256), random(256)].join('.'));
    const edges = ['0.0.0.0', '255.255.255.255', '10.0.0.1', '1.2.3.4'];
    const others = [
      '01.2.3.4', '1.2.3.04', '1.2.3.256', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4:80',
      ' 1.2.3.4', '1.2.3.4 ', '0x7f.0.0.1', '127.1', '::ffff:1.2.3.4', '::1', '1.2.3.4%eth0', '1111.2.3.4', '1.2.3.-4', '', 'unknown',
    ];
    for (const text of [...canonical, ...edges]) {
      const parsed = parseClientAddress(text);
      expect(parsed?.kind()).toBe('ipv4');
      expect(parsed?.toNormalizedString()).toBe(text);
      expect(canonicalIPv4Subnet(text)).toBe(subnetOf(parsed as NonNullable<typeof parsed>));
    }
    for (const text of others) expect(canonicalIPv4Subnet(text), text).toBeUndefined();
  });

  it('keys a dotted quad exactly as the parser path keys its other spellings', () => {
    const key = createKeyer('c'.repeat(40), 0);
    const reader = new ContextReader(key, logger);
    const plain = reader.read(req('198.51.100.7'), undefined);
    // The same client, spelt so that only the parser understands it.
    for (const spelling of ['::ffff:198.51.100.7', '198.51.100.7:4431', '[::ffff:198.51.100.7]:443']) {
      const other = reader.read(req(spelling), undefined);
      expect([other.ip, other.subnet, other.site]).toEqual([plain.ip, plain.subnet, undefined]);
    }
    expect(plain.subnet).toBe(key('net', '198.51.100.0/24'));
  });
});
