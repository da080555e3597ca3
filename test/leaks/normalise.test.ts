import { describe, expect, it } from 'vitest';
import { normaliseAddress } from '../../src/leaks/normalise.js';

// The normalisation spec; docs/leaks.md carries the same table.
const table: [input: string, expected: string | null, rule: string][] = [
  ['alice@example.com', 'alice@example.com', 'already canonical'],
  ['  alice@example.com\t', 'alice@example.com', 'trimmed'],
  ['Alice@Example.COM', 'alice@example.com', 'lower-cased, local part too'],
  ['ＡＬＩＣＥ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'alice@example.com', 'NFKC folds full-width forms'],
  ['ﬁnn@example.com', 'finn@example.com', 'NFKC folds ligatures'],
  ['a.l.i.c.e@example.com', 'a.l.i.c.e@example.com', 'dots kept outside Gmail'],
  ['alice+shop@example.com', 'alice+shop@example.com', '+tag kept outside Gmail'],
  ['A.Li.Ce+news@gmail.com', 'alice@gmail.com', 'Gmail: dots and +tag folded'],
  ['alice+a+b@gmail.com', 'alice@gmail.com', 'Gmail: everything after the first + dropped'],
  ['al.ice@googlemail.com', 'alice@gmail.com', 'googlemail.com → gmail.com'],
  ['alice@GMAIL.com.', 'alice@gmail.com', 'trailing dot of the domain dropped'],
  ['+tag@gmail.com', null, 'Gmail local part empty after folding'],
  ['josé@bücher.de', 'josé@xn--bcher-kva.de', 'IDN domain to ASCII, local part kept'],
  ['user@xn--bcher-kva.de', 'user@xn--bcher-kva.de', 'ASCII domain unchanged'],
  ['user@例え.テスト', 'user@xn--r8jz45g.xn--zckzah', 'IDN, non-Latin'],
  ['user@EXAMPLE。com', 'user@example.com', 'ideographic full stop is a dot'],
  ['', null, 'empty'],
  ['   ', null, 'blank'],
  ['alice', null, 'no @'],
  ['alice@@example.com', null, 'two @'],
  ['a@b@example.com', null, 'two @'],
  ['@example.com', null, 'empty local part'],
  ['alice@', null, 'empty domain'],
  ['alice@localhost', null, 'domain without a dot'],
  ['alice@example..com', null, 'empty label'],
  ['alice@-example.com', null, 'label starts with -'],
  ['alice@exa_mple.com', null, 'underscore in domain'],
  ['alice@1.2.3.4', null, 'bare IP address'],
  ['alice@[1.2.3.4]', null, 'address literal'],
  ['alice@exa mple.com', null, 'whitespace inside'],
  ['ali ce@example.com', null, 'whitespace inside'],
  ['alice\u0000@example.com', null, 'control character'],
  ['ali\u200bce@example.com', null, 'invisible format character'],
  ['"alice"@example.com', null, 'quoted local part unsupported'],
  ['<alice@example.com>', null, 'angle brackets'],
  ['alice:pw@example.com', null, 'combolist separator inside'],
  ['alice@exa%mple.com', null, 'domain that fails domainToASCII'],
  [`${'a'.repeat(65)}@example.com`, null, 'local part over 64'],
  [`${'a'.repeat(64)}@example.com`, `${'a'.repeat(64)}@example.com`, 'local part of 64'],
  [`a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.com`, null, 'domain over 255'],
  [`a@${'x'.repeat(64)}.com`, null, 'label over 63'],
  ['a'.repeat(5000), null, 'far too long'],
];

describe('normaliseAddress', () => {
  it.each(table)('%j → %j (%s)', (input, expected) => {
    expect(normaliseAddress(input)).toBe(expected);
  });

  it('is idempotent on every valid row', () => {
    for (const [, expected] of table) {
      if (expected !== null) expect(normaliseAddress(expected)).toBe(expected);
    }
  });

  it('never throws on arbitrary input', () => {
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const length = random() % 40;
      let s = '';
      for (let j = 0; j < length; j++) s += String.fromCodePoint(random() % 0x3000);
      expect(() => normaliseAddress(s)).not.toThrow();
      expect(() => normaliseAddress(`${s}@${s}.com`)).not.toThrow();
    }
  });
});
