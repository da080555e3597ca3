import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaults } from '../../src/config/config.js';
import { shieldShape } from '../../src/config/options.js';

/**
 * The README's option table documents the declarations in src/config/options.ts: every
 * option has a row, no row names an option that does not exist, and every default the table
 * spells out as a value is the declared default.
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('\n## Options\n'), readme.indexOf('\n## Posture\n'));
const rows = section
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| /, '').trim()));

describe("the README's option table", () => {
  it('has a row for every option and none for options that do not exist', () => {
    const named = rows.flatMap(([names]) => [...(names ?? '').matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1]));
    expect(named.sort()).toEqual(Object.keys(shieldShape).sort());
  });

  it('shows the declared defaults', () => {
    let checked = 0;
    for (const [names, cell] of rows) {
      const name = /`([a-zA-Z]+)`/.exec(names ?? '')?.[1] as keyof typeof defaults;
      const literal = /^`(.+)`$/.exec(cell ?? '')?.[1];
      if (!literal || !/^[{'\d]|^(true|false)$/.test(literal)) continue;
      const value: unknown = new Function(`return (${literal});`)();
      expect(value, `README default of ${name}`).toEqual(defaults[name]);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(10);
  });
});
