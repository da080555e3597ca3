import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { MemoCache } from '../../src/identity/memo-cache.js';
import { createKeyer } from '../../src/identity/keyer.js';
import { loginApp } from '../support/login-app.js';

describe('bounded memo', () => {
  it('computes once per key and never holds more than its bound', () => {
    const cache = new MemoCache<number>(3);
    let computed = 0;
    const get = (k: string) => cache.get(k, () => ++computed);
    expect([get('a'), get('a'), get('b'), get('c'), get('d')]).toEqual([1, 1, 2, 3, 4]);
    expect(cache.size).toBe(3);
    expect(get('a')).toBe(5); // the oldest was dropped and is computed again
  });

  it('under a long stream of fresh keys keeps exactly the newest, and a rewrite evicts nothing', () => {
    const cache = new MemoCache<number>(4);
    for (let i = 0; i < 1000; i++) {
      cache.set(`k${i}`, i);
      if (i >= 3) {
        expect(cache.size).toBe(4);
        for (let back = 0; back < 4; back++) expect(cache.peek(`k${i - back}`)).toBe(i - back);
        expect(cache.peek(`k${i - 4}`)).toBeUndefined();
      }
    }
    cache.set('k999', -1);
    expect([cache.peek('k996'), cache.peek('k999'), cache.size]).toEqual([996, -1, 4]);
    cache.clear();
    cache.set('again', 1);
    expect([cache.size, cache.peek('again')]).toEqual([1, 1]);
  });

  it('keys exactly as HMAC-SHA-256 under the secret as given (stored ids stay valid across versions)', () => {
    const secret = 'k'.repeat(40);
    const expected = createHmac('sha256', secret).update('acct').update('\0').update('user@example.com').digest('base64url').slice(0, 22);
    expect(createKeyer(secret, 0)('acct', 'user@example.com')).toBe(expected);
    expect(createKeyer(Buffer.from(secret))('acct', 'user@example.com')).toBe(expected);
    // Beyond ASCII too: the joined text is the same UTF-8 bytes as its parts.
    const unicode = createHmac('sha256', secret).update('acct').update('\0').update('jürgen@bücher.example').digest('base64url').slice(0, 22);
    expect(createKeyer(secret, 0)('acct', 'jürgen@bücher.example')).toBe(unicode);
  });

  it('keys identically with and without the memo, and separates kinds', () => {
    const memo = createKeyer('k'.repeat(40));
    const plain = createKeyer('k'.repeat(40), 0);
    expect(memo('ip', '1.2.3.4')).toBe(plain('ip', '1.2.3.4'));
    expect(memo('ip', '1.2.3.4')).toBe(plain('ip', '1.2.3.4'));
    expect(memo('acct', '1.2.3.4')).not.toBe(memo('ip', '1.2.3.4'));
    expect(createKeyer('j'.repeat(40))('ip', '1.2.3.4')).not.toBe(memo('ip', '1.2.3.4'));
  });
});

describe('leak list memo and hot reload', () => {
  it('sees an address added to the list file after a reload', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'as-leaks-'));
    const file = join(dir, 'leaks.txt');
    await writeFile(file, 'someone@example.com\n');
    const { app, shield, decisions } = loginApp({ leakedAddresses: file });
    await shield.ready;
    const attempt = async () => {
      await request(app).post('/login').send({ email: 'late@example.com', password: 'x' });
      return decisions.at(-1)?.reasons.some((r) => r.signal === 'leaked-address');
    };
    expect(await attempt()).toBe(false);
    await writeFile(file, 'someone@example.com\nlate@example.com\n');
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = (await attempt()) === true;
    }
    expect(seen).toBe(true);
    await shield.close();
    await rm(dir, { recursive: true, force: true });
  });
});
