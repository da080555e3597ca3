import { ShieldConfigError } from '../errors/shield-error.js';

/**
 * A tiny declarative checker for option objects: every key must be known and of the declared
 * type. A typo such as `treshold` is a start-up error, not a silently ignored setting.
 */
export type FieldType =
  | 'string'
  | 'number'
  | 'positive'
  | 'integer'
  | 'boolean'
  | 'function'
  | 'object'
  | 'any'
  | { readonly oneOf: readonly (string | number | boolean)[] }
  | { readonly fields: Schema; readonly open?: FieldType }
  | { readonly union: readonly FieldType[] };

export type Schema = { readonly [key: string]: FieldType };

export function validateOptions(value: unknown, schema: Schema, path: string): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    throw new ShieldConfigError('INVALID_TYPE', `${path} must be an object.`, `Pass an options object to ${path}.`);
  }
  for (const key of Object.keys(value)) {
    const type = schema[key];
    const where = `${path}.${key}`;
    if (!Object.hasOwn(schema, key) || type === undefined) {
      const known = Object.keys(schema).join(', ');
      throw new ShieldConfigError('UNKNOWN_OPTION', `Unknown option ${where}.`, `Remove it or use one of: ${known}.`);
    }
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    checkField(field, type, where);
  }
}

function checkField(field: unknown, type: FieldType, where: string): void {
  if (typeof type === 'object') {
    if ('oneOf' in type) {
      if (!type.oneOf.includes(field as string)) {
        throw new ShieldConfigError(
          'INVALID_VALUE',
          `${where} is ${JSON.stringify(field)}.`,
          `Use one of: ${type.oneOf.map((v) => JSON.stringify(v)).join(', ')}.`,
        );
      }
      return;
    }
    if ('union' in type) {
      const errors: ShieldConfigError[] = [];
      for (const option of type.union) {
        try {
          checkField(field, option, where);
          return;
        } catch (error) {
          errors.push(error as ShieldConfigError);
        }
      }
      throw errors.find((e) => e.code === 'INVALID_VALUE') ?? errors[0];
    }
    if (type.open) {
      if (!isPlainObject(field)) throw wrongType(where, 'an object', field);
      for (const [k, v] of Object.entries(field)) {
        checkField(v, Object.hasOwn(type.fields, k) ? (type.fields[k] as FieldType) : type.open, `${where}.${k}`);
      }
      return;
    }
    validateOptions(field, type.fields, where);
    return;
  }
  switch (type) {
    case 'any':
      return;
    case 'object':
      if (typeof field !== 'object' || field === null) throw wrongType(where, 'an object', field);
      return;
    case 'number':
      if (typeof field !== 'number' || !Number.isFinite(field)) throw wrongType(where, 'a finite number', field);
      return;
    case 'positive':
      if (typeof field !== 'number' || !Number.isFinite(field) || field <= 0) {
        throw wrongType(where, 'a positive number', field);
      }
      return;
    case 'integer':
      if (typeof field !== 'number' || !Number.isInteger(field) || field <= 0) {
        throw wrongType(where, 'a positive integer', field);
      }
      return;
    default:
      if (typeof field !== type) throw wrongType(where, `a ${type}`, field);
  }
}

function wrongType(where: string, expected: string, got: unknown): ShieldConfigError {
  const actual = got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got;
  return new ShieldConfigError('INVALID_TYPE', `${where} must be ${expected}, got ${actual}.`, `Set ${where} to ${expected}.`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
