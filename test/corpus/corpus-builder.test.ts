import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildLeakCorpus } from '../../src/leaks/build-addresses.js';
import { KeyAccumulator } from '../../src/corpus/corpus-builder.js';
import { decodeCorpus } from '../../src/corpus/corpus-file.js';
import { readLines } from '../../src/corpus/input-lines.js';
import { splitCsvLine } from '../../src/corpus/input-records.js';
import { loadLeakedAddresses } from '../../src/leaks/source.js';

const secret = 'builder test secret';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'account-shield-build-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function lookup(corpus: string) {
  const source = await loadLeakedAddresses(corpus, { secret });
  return (address: string) => source.has(address);
}

describe('buildLeakCorpus', () => {
  it('reads plain lists and combolists, keeping only addresses', async () => {
    const input = await file(
      'dump.txt',
      [
        'alice@example.com',
        'Bob@Example.com:Tr0ub4dor&3',
        'carol@example.com;correct horse',
        'dave@example.com|pw|extra',
        'erin@example.com\tpw',
        'alice@example.com:another-password',
        'not an address:pw',
        '',
        ':only-password',
      ].join('\n'),
    );
    const out = join(dir, 'leaks.bin');
    const summary = await buildLeakCorpus({ inputs: [input], out, secret });
    expect(summary).toMatchObject({ count: 5, duplicates: 1, skipped: 2, records: 8 });
    const has = await lookup(out);
    for (const a of ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com']) {
      expect(has(a)).toBe(true);
    }
    const bytes = await readFile(out);
    for (const secretText of ['Tr0ub4dor', 'correct horse', 'another-password', 'example.com']) {
      expect(bytes.includes(Buffer.from(secretText))).toBe(false);
    }
  });

  it('reads the email column of a CSV file, quoted or not, any delimiter', async () => {
    const comma = await file('users.csv', 'id,Email,password\n1,alice@example.com,pw1\n2,"bob@example.com",pw2\n3,,pw3\n');
    const semicolon = await file('more.csv', 'name;e-mail\n"Smith; Carol";carol@example.com\n"unbalanced;x\n');
    const out = join(dir, 'leaks.bin');
    const summary = await buildLeakCorpus({ inputs: [comma, semicolon], out, secret });
    expect(summary).toMatchObject({ count: 3, skipped: 2 });
    const has = await lookup(out);
    expect(has('alice@example.com') && has('bob@example.com') && has('carol@example.com')).toBe(true);
  });

  it('refuses a CSV without an email column', async () => {
    const input = await file('users.csv', 'id,name\n1,alice\n');
    await expect(buildLeakCorpus({ inputs: [input], out: join(dir, 'x.bin'), secret })).rejects.toMatchObject({
      code: 'CORPUS_INPUT',
    });
  });

  it('refuses a missing input before reading anything', async () => {
    const good = await file('good.txt', 'a@example.com\n');
    const out = join(dir, 'x.bin');
    await expect(buildLeakCorpus({ inputs: [good, join(dir, 'nope.txt')], out, secret })).rejects.toMatchObject({
      code: 'CORPUS_READ',
    });
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads stdin for "-" and reports progress', async () => {
    const out = join(dir, 'x.bin');
    const phases = new Set<string>();
    const summary = await buildLeakCorpus({
      inputs: ['-'],
      out,
      secret,
      stdin: Readable.from([Buffer.from('a@example.com\nb@exam'), Buffer.from('ple.com\n')]),
      onProgress: (p) => phases.add(p.phase),
    });
    expect(summary.count).toBe(2);
    expect([...phases]).toEqual(['reading', 'building', 'writing', 'done']);
  });

  it('builds 10^5 addresses within the size budget', async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `person${i}@example.net`);
    const input = await file('big.txt', `${lines.join('\n')}\n`);
    const out = join(dir, 'big.bin');
    const summary = await buildLeakCorpus({ inputs: [input], out, secret, fingerprintBits: 16 });
    expect(summary.count).toBe(100_000);
    const { header, bitsPerMember } = decodeCorpus(await readFile(out));
    expect(header.fingerprintBits).toBe(16);
    expect(bitsPerMember).toBeLessThanOrEqual(20);
  });
});

describe('KeyAccumulator', () => {
  it('de-duplicates in place before growing', () => {
    const keys = new KeyAccumulator(16);
    for (let round = 0; round < 50; round++) for (let i = 0; i < 10; i++) keys.push(i, 7);
    expect(keys.length).toBeLessThanOrEqual(16);
    expect(keys.array.length).toBe(32);
    for (let i = 0; i < 1000; i++) keys.push(i, 9);
    expect(keys.length).toBeGreaterThanOrEqual(1000);
  });
});

describe('readLines', () => {
  async function collect(chunks: (string | Buffer)[], maxLineLength?: number) {
    const out: (string | null)[] = [];
    for await (const line of readLines(Readable.from(chunks.map((c) => Buffer.from(c))), { maxLineLength })) {
      out.push(line);
    }
    return out;
  }

  it('splits on LF and CRLF, strips a BOM, keeps a last line without newline', async () => {
    expect(await collect(['\uFEFFa\r\nb\n', 'c'])).toEqual(['a', 'b', 'c']);
  });

  it('reassembles lines and multi-byte characters split across chunks', async () => {
    const bytes = Buffer.from('josé@bücher.de\nx\n');
    const chunks = Array.from(bytes, (b) => Buffer.from([b]));
    expect(await collect(chunks)).toEqual(['josé@bücher.de', 'x']);
  });

  it('replaces an overlong line with null and carries on', async () => {
    expect(await collect(['short\n', 'x'.repeat(50), 'y'.repeat(50), '\nnext\n'], 64)).toEqual(['short', null, 'next']);
    expect(await collect([`${'z'.repeat(100)}\nok\n`], 64)).toEqual([null, 'ok']);
  });
});

describe('splitCsvLine', () => {
  it('handles quotes and escaped quotes', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
    expect(splitCsvLine('"open')).toBeNull();
  });
});
