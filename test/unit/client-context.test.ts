import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { ContextReader } from '../../src/identity/client-context.js';
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
    reader.remember(req('198.51.100.7'), again);
    const known = reader.read(req('198.51.100.7'), undefined);
    expect([known.remembered, known.ip, known.subnet, keyed]).toEqual([true, first.ip, first.subnet, 4]);
    // Another address is its own source.
    expect(reader.read(req('198.51.100.8'), undefined).remembered).toBe(false);
  });
});
