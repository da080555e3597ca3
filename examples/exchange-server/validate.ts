import type { Response } from 'express';

/**
 * Request-body reading for the app's own routes. Only own fields of a plain JSON object
 * count (so `__proto__`, `constructor` and friends are just unknown keys), strings must be
 * well-formed unicode and bounded, and every failure becomes a 400 JSON answer rather than
 * a thrown error further down.
 */
export type Field<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly detail: string };

export function isJsonObject(body: unknown): body is Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body);
}

function own(body: unknown, name: string): Field<unknown> {
  if (!isJsonObject(body)) return { ok: false, detail: 'body must be a JSON object' };
  if (!Object.hasOwn(body, name)) return { ok: false, detail: `${name} is required` };
  return { ok: true, value: body[name] };
}

export function stringField(body: unknown, name: string, maxLength: number): Field<string> {
  const field = own(body, name);
  if (!field.ok) return field;
  const value = field.value;
  if (typeof value !== 'string') return { ok: false, detail: `${name} must be a string` };
  if (value.length === 0) return { ok: false, detail: `${name} must not be empty` };
  if (value.length > maxLength) return { ok: false, detail: `${name} is longer than ${maxLength} characters` };
  if (!value.isWellFormed()) return { ok: false, detail: `${name} is not valid unicode` };
  return { ok: true, value };
}

/** A list of distinct strings drawn from `allowed`. */
export function enumListField<T extends string>(body: unknown, name: string, allowed: readonly T[]): Field<T[]> {
  const field = own(body, name);
  if (!field.ok) return field;
  const value = field.value;
  if (!Array.isArray(value) || value.length > allowed.length) {
    return { ok: false, detail: `${name} must be a list of at most ${allowed.length} of: ${allowed.join(', ')}` };
  }
  const seen = new Set<T>();
  for (const item of value) {
    if (typeof item !== 'string' || !(allowed as readonly string[]).includes(item) || seen.has(item as T)) {
      return { ok: false, detail: `${name} must be distinct values from: ${allowed.join(', ')}` };
    }
    seen.add(item as T);
  }
  return { ok: true, value: [...seen] };
}

/**
 * Characters that make an address look like another one or hide what it says: C0/C1 controls,
 * zero-width and bidirectional formatting characters, and whitespace.
 */
const DECEPTIVE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]/u;

/** A deliberately plain address check: one `@`, something on each side, no deceptive characters. */
export function emailField(body: unknown, name: string, maxLength: number): Field<string> {
  const field = stringField(body, name, maxLength);
  if (!field.ok) return field;
  const value = field.value.trim();
  const at = value.indexOf('@');
  if (DECEPTIVE.test(value) || at < 1 || at !== value.lastIndexOf('@') || at === value.length - 1 || !value.slice(at).includes('.')) {
    return { ok: false, detail: `${name} must be an email address` };
  }
  return { ok: true, value };
}

export function badRequest(res: Response, detail: string): void {
  res.status(400).json({ error: 'bad_request', detail });
}
