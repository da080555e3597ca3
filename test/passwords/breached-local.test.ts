import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLeakCorpus } from '../../src/leaks/build-addresses.js';
import {
  buildBreachedPasswordCorpus,
  loadBreachedPasswords,
  parseHibpLine,
} from '../../src/passwords/breached-local.js';
import { anyBreached } from '../../src/passwords/source.js';

const secret = 'password corpus secret';
const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'account-shield-pw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseHibpLine', () => {
  it('reads SHA1:COUNT, a bare hash, and rejects anything else', () => {
    expect(parseHibpLine('5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:10434004')?.toString('hex')).toBe(
      '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8',
    );
    expect(parseHibpLine('5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8\r')).toBeInstanceOf(Buffer);
    expect(parseHibpLine('5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3', 10)).toBeUndefined();
    expect(parseHibpLine('')).toBeUndefined();
    expect(parseHibpLine('password:12')).toBeNull();
    expect(parseHibpLine('5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD:1')).toBeNull();
  });
});

describe('local breached-password corpus', () => {
  const breached = Array.from({ length: 20_000 }, (_, i) => `breached-${i}`);

  it('builds from a HIBP file and answers membership', async () => {
    const lines = breached.map((p, i) => `${sha1(p)}:${(i % 50) + 1}`);
    lines.push('not a hash line', `${sha1('password')}:10434004`, `${sha1('rare')}:1`);
    const input = join(dir, 'pwned.txt');
    await writeFile(input, `${lines.join('\r\n')}\r\n`);
    const out = join(dir, 'pwned.bin');
    const summary = await buildBreachedPasswordCorpus({ inputs: [input], out, secret, minCount: 2 });
    expect(summary.skipped).toBe(1);
    expect(summary.belowMinCount).toBe(401); // 400 breached-i with count 1, plus "rare"
    expect(summary.count).toBe(20_001 - 400);

    const corpus = await loadBreachedPasswords(out, { secret });
    expect(await corpus.isBreached('password')).toBe(true);
    expect(await corpus.isBreached('breached-1')).toBe(true);
    expect(await corpus.isBreached('breached-0')).toBe(false); // count 1 < min count (or a 0.4 % false positive)
    expect(await corpus.isBreached('rare')).toBe(false);
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (corpus.has(`fresh-${i}-x`)) falsePositives++;
    expect(falsePositives).toBeLessThan(80);

    // The file is keyed: neither the SHA-1s nor their prefixes appear in it.
    const bytes = await readFile(out);
    expect(bytes.includes(Buffer.from(sha1('password').slice(0, 16), 'hex'))).toBe(false);
  });

  it('refuses a leak corpus, a wrong key and a missing file', async () => {
    const list = join(dir, 'list.txt');
    await writeFile(list, 'a@example.com\n');
    const leakCorpus = join(dir, 'leaks.bin');
    await buildLeakCorpus({ inputs: [list], out: leakCorpus, secret });
    await expect(loadBreachedPasswords(leakCorpus, { secret })).rejects.toMatchObject({ code: 'CORPUS_KIND' });

    const input = join(dir, 'one.txt');
    await writeFile(input, `${sha1('hunter2')}:5\n`);
    const out = join(dir, 'one.bin');
    await buildBreachedPasswordCorpus({ inputs: [input], out, secret });
    await expect(loadBreachedPasswords(out, { secret: 'other' })).rejects.toMatchObject({ code: 'CORPUS_WRONG_KEY' });
    await expect(loadBreachedPasswords(join(dir, 'none.bin'), { secret })).rejects.toMatchObject({ code: 'CORPUS_READ' });
  });
});

describe('anyBreached', () => {
  it('stops at the first source that knows the password', async () => {
    const asked: string[] = [];
    const source = (name: string, answer: boolean) => ({
      isBreached: async () => {
        asked.push(name);
        return answer;
      },
    });
    expect(await anyBreached(source('local', true), source('range', true)).isBreached('x')).toBe(true);
    expect(asked).toEqual(['local']);
    expect(await anyBreached(source('local', false), source('range', false)).isBreached('x')).toBe(false);
    expect(asked).toEqual(['local', 'local', 'range']);
  });
});
