/**
 * Canonical form of an email address, so that the spelling an attacker's list uses and the
 * spelling a user types at login meet on the same keyed hash. The rules are specified as a
 * table in docs/leaks.md; test/leaks/normalise.test.ts is that table.
 */
import { domainToASCII } from 'node:url';
import { MemoCache } from '../identity/memo-cache.js';

/** RFC 5321 limits: 64 octets of local part, 255 of domain, so 320 with the `@`. */
const MAX_ADDRESS = 320;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
/** Inputs far beyond any valid address are refused before NFKC, which costs time per char. */
const MAX_RAW = 1024;

// Characters RFC 5322 only allows inside a quoted local part. Quoted local parts are not
// supported (no provider hands them out), so these make a line invalid. `:` `;` `|` also
// separate address and password in combolists, so an address can never contain them.
const LOCAL_FORBIDDEN = /[\s"(),:;<>[\\\]|\p{Cc}\p{Cf}]/u;
const CONTROL_OR_SPACE = /[\s\p{Cc}\p{Cf}]/u;
const ASCII_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const NUMERIC = /^[0-9]+$/;

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);
/** Printable ASCII only: NFKC leaves it as it is, so the (ICU) normalisation can be skipped. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/**
 * Logins and leak lists name a few thousand domains over and over (gmail.com, ...): their
 * ASCII form is memoised, bounded, so a stream of made-up domains costs one insert each.
 */
const domains = new MemoCache<string>(10_000);

/**
 * Returns the canonical address, or `null` when `raw` is not an address we can match on
 * (the caller counts it as a skipped line). Never throws.
 */
export function normaliseAddress(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_RAW) return null;
  // Lower-casing is deliberate although RFC 5321 lets a local part be case-sensitive: every
  // large provider treats it case-insensitively, and dumps and combolists vary in case, so
  // matching case-sensitively would only let `Alice@` slip past a leak of `alice@`.
  const trimmed = raw.trim();
  const text = (PRINTABLE_ASCII.test(trimmed) ? trimmed : trimmed.normalize('NFKC')).toLowerCase();
  if (text.length === 0 || text.length > MAX_ADDRESS || CONTROL_OR_SPACE.test(text)) return null;

  const at = text.indexOf('@');
  if (at <= 0 || at !== text.lastIndexOf('@')) return null;
  let local = text.slice(0, at);
  const domainText = text.slice(at + 1);
  const domain = domains.peek(domainText) ?? remember(domainText, asciiDomain(domainText));
  if (domain === null || local.length > MAX_LOCAL || LOCAL_FORBIDDEN.test(local)) return null;

  let finalDomain = domain;
  if (GMAIL_DOMAINS.has(domain)) {
    // Gmail ignores dots and everything after `+` in the local part, and googlemail.com is
    // the same mailbox; other providers differ (some treat `+` or `.` as significant), so
    // folding is limited to the one provider whose rule is documented.
    const plus = local.indexOf('+');
    local = (plus === -1 ? local : local.slice(0, plus)).replaceAll('.', '');
    if (local.length === 0) return null;
    finalDomain = 'gmail.com';
  }
  const address = `${local}@${finalDomain}`;
  return address.length > MAX_ADDRESS ? null : address;
}

function remember(domainText: string, ascii: string | null): string | null {
  // Only what is a domain is kept: junk cannot fill the memo with nulls.
  if (ascii !== null) domains.set(domainText, ascii);
  return ascii;
}

/** IDN → ASCII (punycode) and hostname syntax; `null` when the domain cannot receive mail. */
function asciiDomain(unicodeDomain: string): string | null {
  // A single trailing dot is the fully-qualified spelling of the same domain.
  const trimmed = unicodeDomain.endsWith('.') ? unicodeDomain.slice(0, -1) : unicodeDomain;
  if (trimmed.length === 0) return null;
  const ascii = domainToASCII(trimmed);
  if (ascii.length === 0 || ascii.length > MAX_DOMAIN) return null;
  const labels = ascii.split('.');
  // A domain without a dot (`localhost`) is never a public mailbox, and an all-digit last
  // label is an IP address written without the brackets an address literal needs.
  if (labels.length < 2 || NUMERIC.test(labels[labels.length - 1]!)) return null;
  for (const label of labels) if (!ASCII_LABEL.test(label)) return null;
  return ascii;
}
