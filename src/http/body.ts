/**
 * Request-body field access that cannot be fooled by prototypes or odd types: only own,
 * string-valued fields of a plain JSON object count, with a length bound.
 */
export type FieldResult = { ok: true; value: string } | { ok: false; detail: string };

export function stringField(body: unknown, name: string, maxLength: number, options: { allowEmpty?: boolean } = {}): FieldResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, detail: 'body must be a JSON object' };
  }
  if (!Object.hasOwn(body, name)) return { ok: false, detail: `${name} is required` };
  const value = (body as Record<string, unknown>)[name];
  if (typeof value !== 'string') return { ok: false, detail: `${name} must be a string` };
  if (!options.allowEmpty && value.length === 0) return { ok: false, detail: `${name} must not be empty` };
  if (value.length > maxLength) return { ok: false, detail: `${name} is longer than ${maxLength} characters` };
  // Lone surrogates cannot be encoded, hashed or stored faithfully.
  if (!value.isWellFormed()) return { ok: false, detail: `${name} is not valid unicode` };
  return { ok: true, value };
}

/** Optional variant: absent is fine, present must be a valid string. */
export function optionalStringField(body: unknown, name: string, maxLength: number): FieldResult | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.hasOwn(body, name)) return undefined;
  return stringField(body, name, maxLength);
}
