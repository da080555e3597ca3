import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildLeakCorpus } from '../../src/leaks/build-addresses.js';
import { LeakCorpusError } from '../../src/corpus/errors.js';
import {
  type LeakedAddressStats,
  leakedAddressesFromList,
  loadLeakedAddresses,
  type ReloadableLeakedAddressSource,
} from '../../src/leaks/source.js';

const secret = 'source test secret';
let dir: string;
const opened: ReloadableLeakedAddressSource[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'account-shield-source-'));
});
afterEach(async () => {
  for (const source of opened.splice(0)) source.close();
  await rm(dir, { recursive: true, force: true });
});

async function load(path: string, options: Partial<Parameters<typeof loadLeakedAddresses>[1]> = {}) {
  const source = await loadLeakedAddresses(path, { secret, ...options });
  opened.push(source);
  return source;
}

async function buildCorpus(name: string, lines: string[]): Promise<string> {
  const input = join(dir, `${name}.txt`);
  await writeFile(input, `${lines.join('\n')}\n`);
  const out = join(dir, name);
  await buildLeakCorpus({ inputs: [input], out, secret });
  return out;
}

function waitFor<T>(register: (resolve: (value: T) => void) => void, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting')), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('leakedAddressesFromList', () => {
  it('matches addresses however the user spells them', () => {
    const source = leakedAddressesFromList(['Alice@Example.com', 'bob.smith+promo@gmail.com', 'junk'], secret);
    expect(source.has('alice@example.com')).toBe(true);
    expect(source.has('  ALICE@EXAMPLE.COM ')).toBe(true);
    expect(source.has('bobsmith@googlemail.com')).toBe(true);
    expect(source.has('carol@example.com')).toBe(false);
    expect(source.has('not an address')).toBe(false);
    expect(source.stats).toMatchObject({ kind: 'list', count: 2, skipped: 1 });
    expect(source.size).toBe(2);
  });
});

describe('loadLeakedAddresses', () => {
  it('loads a plain list, skipping and counting invalid lines', async () => {
    const path = join(dir, 'list.txt');
    await writeFile(path, '\uFEFFalice@example.com\r\nnot-an-address\n\nbob@example.com:password1\nALICE@example.com\n');
    const source = await load(path);
    expect(source.stats).toMatchObject({ kind: 'list', count: 2, skipped: 1 });
    expect(source.has('alice@example.com')).toBe(true);
    expect(source.has('bob@example.com')).toBe(true);
    expect(source.has('password1')).toBe(false);
  });

  it('loads a corpus file and reports its stats', async () => {
    const members = Array.from({ length: 50_000 }, (_, i) => `user${i}@example.org`);
    const path = await buildCorpus('corpus.bin', members);
    const started = performance.now();
    const source = await load(path);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(source.stats.kind).toBe('corpus');
    expect(source.size).toBe(50_000);
    expect(source.stats.bitsPerAddress).toBeLessThanOrEqual(10);
    expect(source.stats.expectedFalsePositiveRate).toBeLessThanOrEqual(0.005);
    for (const member of members) expect(source.has(member)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i++) if (source.has(`other${i}@example.org`)) falsePositives++;
    expect(falsePositives / 20_000).toBeLessThan(0.008);
  });

  it('rejects a missing file, a directory and a corpus built under another key', async () => {
    await expect(load(join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'CORPUS_READ' });
    await expect(load(dir)).rejects.toMatchObject({ code: 'CORPUS_READ' });
    const path = await buildCorpus('corpus.bin', ['a@example.com']);
    const error = await loadLeakedAddresses(path, { secret: 'another' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeakCorpusError);
    expect(error).toMatchObject({ code: 'CORPUS_WRONG_KEY' });
  });

  it('reloads when the file is replaced, and on SIGHUP', async () => {
    const path = join(dir, 'leaks.txt');
    await writeFile(path, 'first@example.com\n');
    const reloads: LeakedAddressStats[] = [];
    let notify: ((stats: LeakedAddressStats) => void) | undefined;
    const source = await load(path, {
      watch: true,
      debounceMs: 20,
      onReload: (stats) => {
        reloads.push(stats);
        notify?.(stats);
      },
    });
    expect(source.has('first@example.com')).toBe(true);

    // Replaced atomically by a corpus file: the format is detected again.
    const corpus = await buildCorpus('next.bin', ['second@example.com', 'third@example.com']);
    const reloaded = waitFor<LeakedAddressStats>((resolve) => {
      notify = resolve;
    });
    await rename(corpus, path);
    expect(await reloaded).toMatchObject({ kind: 'corpus', count: 2 });
    expect(source.has('second@example.com')).toBe(true);
    expect(source.has('first@example.com')).toBe(false);

    // Written in place without any watcher event of interest: SIGHUP forces the reload.
    source.close();
    opened.splice(0);
    const watched = await load(path, { watch: true, debounceMs: 60_000, onReload: (s) => notify?.(s) });
    await writeFile(join(dir, 'sighup.txt'), 'fourth@example.com\n');
    await rename(join(dir, 'sighup.txt'), path);
    const afterSignal = waitFor<LeakedAddressStats>((resolve) => {
      notify = resolve;
    });
    process.kill(process.pid, 'SIGHUP');
    expect(await afterSignal).toMatchObject({ kind: 'list', count: 1 });
    expect(watched.has('fourth@example.com')).toBe(true);
  });

  it('keeps the old data when a reload is refused', async () => {
    const path = join(dir, 'leaks.bin');
    await rename(await buildCorpus('v1.bin', ['kept@example.com']), path);
    const errors: Error[] = [];
    const source = await load(path, { onError: (error) => errors.push(error) });
    await writeFile(path, readFileSync(path).subarray(0, 100));
    expect(await source.reload()).toBe(false);
    expect(errors[0]).toMatchObject({ code: 'CORPUS_TRUNCATED' });
    expect(source.has('kept@example.com')).toBe(true);
    await writeFile(path, readFileSync(path).subarray(0, 5));
    expect(await source.reload()).toBe(false);
    expect(errors[1]).toMatchObject({ code: 'CORPUS_TRUNCATED' });
    await writeFile(path, '');
    expect(await source.reload()).toBe(false);
    expect(errors[2]).toMatchObject({ code: 'CORPUS_TRUNCATED', message: expect.stringMatching(/empty/) });
    await rm(path);
    expect(await source.reload()).toBe(false);
    expect(errors[3]).toMatchObject({ code: 'CORPUS_READ' });
    expect(source.has('kept@example.com')).toBe(true);
  });

  it('close() removes its SIGHUP handler and file watcher', async () => {
    const path = join(dir, 'leaks.txt');
    await writeFile(path, 'a@example.com\n');
    const before = process.listenerCount('SIGHUP');
    let reloads = 0;
    const source = await load(path, { watch: true, debounceMs: 10, onReload: () => reloads++ });
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    source.close();
    expect(process.listenerCount('SIGHUP')).toBe(before);
    await writeFile(join(dir, 'next.txt'), 'b@example.com\n');
    await rename(join(dir, 'next.txt'), path);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reloads).toBe(0);
    expect(source.has('a@example.com')).toBe(true);
  });

  it('answers every lookup during reloads under load', async () => {
    const stable = Array.from({ length: 2000 }, (_, i) => `stable${i}@example.com`);
    const path = join(dir, 'leaks.bin');
    await rename(await buildCorpus('gen0.bin', [...stable, 'gen0@example.com']), path);
    const errors: Error[] = [];
    let reloads = 0;
    const source = await load(path, { watch: true, debounceMs: 5, onReload: () => reloads++, onError: (e) => errors.push(e) });

    let lookups = 0;
    let wrong = 0;
    let running = true;
    const load$ = (async () => {
      while (running) {
        for (let i = 0; i < 200; i++) {
          // A stable member must be found whichever generation is loaded.
          if (!source.has(stable[(lookups + i) % stable.length]!)) wrong++;
        }
        lookups += 200;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let generation = 1; generation <= 5; generation++) {
      const next = await buildCorpus(`gen${generation}.bin`, [...stable, `gen${generation}@example.com`]);
      await rename(next, path);
      await source.reload();
    }
    running = false;
    await load$;
    expect(lookups).toBeGreaterThan(1000);
    expect(wrong).toBe(0);
    expect(errors).toEqual([]);
    expect(reloads).toBeGreaterThanOrEqual(5);
    expect(source.has('gen5@example.com')).toBe(true);
    expect(source.has('gen0@example.com')).toBe(false);
  });
});
