import { createRequire } from 'node:module';

/**
 * zxcvbn's own list of the most common passwords (30,000, from public breaches), already a
 * dependency: the default "is this password from a list" check when no breached-password
 * corpus is configured. Loaded on first use (about 2 MB of strings).
 */
interface Lists {
  readonly all: ReadonlySet<string>;
  /** The most common bases, for `Base2024!`-style variants. */
  readonly top: ReadonlySet<string>;
}

let lists: Lists | undefined;
const TOP_BASES = 1000;
const MIN_BASE_LENGTH = 4;
const MAX_CHECKED_LENGTH = 64;

function load(): Lists {
  const require = createRequire(import.meta.url);
  const { passwords } = require('zxcvbn/lib/frequency_lists.js') as { passwords: string[] };
  return { all: new Set(passwords), top: new Set(passwords.slice(0, TOP_BASES)) };
}

/**
 * True for a password on the common list (case-insensitive), or one of the most common bases
 * with digits and symbols appended (`Dragon2023!`). Cheap: two Set lookups, no zxcvbn.
 */
export function isCommonPassword(password: string): boolean {
  if (password.length === 0 || password.length > MAX_CHECKED_LENGTH) return false;
  lists ??= load();
  const lower = password.toLowerCase();
  if (lists.all.has(lower)) return true;
  // The base is what is left once the trailing digits and symbols are gone: everything up to
  // the last ASCII letter (what `/[\d\W_]+$/u` leaves, found here without a regular
  // expression, which cost a µs on every stranger's attempt).
  let end = lower.length;
  while (end > 0 && !isAsciiLetter(lower.charCodeAt(end - 1))) end--;
  return end >= MIN_BASE_LENGTH && end < lower.length && lists.top.has(lower.slice(0, end));
}

function isAsciiLetter(code: number): boolean {
  const folded = code | 0x20;
  return folded >= 0x61 && folded <= 0x7a;
}
