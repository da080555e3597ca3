import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isCommonPassword } from '../../src/passwords/common.js';

const { passwords } = createRequire(import.meta.url)('zxcvbn/lib/frequency_lists.js') as { passwords: string[] };
const all = new Set(passwords);
const top = new Set(passwords.slice(0, 1000));

/** The check as first written, over the same lists: every suffix stripped by the regular expression. */
function reference(password: string): boolean {
  if (password.length === 0 || password.length > 64) return false;
  const lower = password.toLowerCase();
  if (all.has(lower)) return true;
  const base = lower.replace(/[\d\W_]+$/u, '');
  return base.length >= 4 && base !== lower && top.has(base);
}

describe('isCommonPassword', () => {
  it('finds listed passwords, any case, and the most common bases with digits and symbols appended', () => {
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('PassWord')).toBe(true);
    expect(isCommonPassword('Dragon2023!')).toBe(true);
    expect(isCommonPassword('monkey_42')).toBe(true);
    expect(isCommonPassword('correct horse battery staple 7')).toBe(false);
    expect(isCommonPassword('x7$Kq!v9Lr2#Wm')).toBe(false);
    expect(isCommonPassword('')).toBe(false);
  });

  it('answers as the regular expression alone did, whatever the password ends in', () => {
    const short = passwords.slice(0, 1000).filter((p) => /^[a-z]{3,5}$/.test(p)).slice(0, 12);
    const bases = [...passwords.slice(0, 50), ...passwords.slice(990, 1010), ...short, 'zzzzqq', 'abc', 'Élan', 'straße'];
    const tails = ['', '1', '123', '!', '2024!', '_', '__9', 'é', '😀', ' ', 'a', 'Z', '1a', '.x', '#', 'ß', 'İ', '\u00ad', '@', '[', '`', '{', '~'];
    const texts: string[] = [];
    for (const b of bases) for (const t of tails) texts.push(b + t, b.toUpperCase() + t, t + b);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const chars = [...'abcxyzABCXYZ0189_!#. é😀ßİ@[`{~'];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = 1 + (next() % 12);
      for (let j = 0; j < n; j++) s += chars[next() % chars.length];
      texts.push(s, `${bases[i % bases.length]}${s}`);
    }
    expect(texts.filter(reference).length).toBeGreaterThan(100);
    for (const text of texts) expect(isCommonPassword(text), JSON.stringify(text)).toBe(reference(text));
  });
});
