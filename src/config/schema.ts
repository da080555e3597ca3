import { ShieldConfigError } from '../errors/shield-error.js';

/**
 * One declaration per option: its check, its default and its TypeScript type all come from the
 * same field, so an option cannot be documented, typed, defaulted and validated four different
 * ways. A typo such as `treshold` is a start-up error (`UNKNOWN_OPTION`), not a silently
 * ignored setting. About 150 lines of our own instead of a schema library: the errors keep the
 * shield's `code` + `fix` style, the option types keep their JSDoc, and consumers install one
 * package fewer.
 */
export class Field<In, Out = In | undefined> {
  declare readonly _in: In;
  declare readonly _out: Out;

  constructor(
    /** What a valid value is, for messages: "a positive integer". */
    readonly expected: string,
    private readonly test: (value: unknown, where: string) => string | undefined,
    private readonly fill: (value: unknown, where: string) => unknown = (value) => value,
    readonly isRequired = false,
  ) {}

  /** Check `value` (present) and return it resolved; throws `ShieldConfigError`. */
  resolve(value: unknown, where: string): Out {
    if (value === undefined) {
      if (this.isRequired) throw new ShieldConfigError('MISSING_CALLBACK', `${where} is required.`, `Set ${where} to ${this.expected}.`);
      return this.fill(undefined, where) as Out;
    }
    const problem = this.test(value, where);
    if (problem !== undefined) throw new ShieldConfigError(problem === 'type' ? 'INVALID_TYPE' : 'INVALID_VALUE', `${where} must be ${this.expected}, got ${describe(value)}.`, `Set ${where} to ${this.expected}.`);
    return this.fill(value, where) as Out;
  }

  /** Used when the option is absent. */
  default(value: In): Field<In, In> {
    return new Field<In, In>(this.expected, this.test, (v, where) => (v === undefined ? value : this.fill(v, where)));
  }

  /** The option must be given (a route's callback); absent is `MISSING_CALLBACK`. */
  required(): Field<In, In> & { readonly isRequired: true } {
    return new Field<In, In>(this.expected, this.test, this.fill, true) as Field<In, In> & { readonly isRequired: true };
  }

  /** A further check on a valid value: return what is wrong, or undefined. */
  refine(check: (value: NonNullable<Out>) => { problem: string; fix: string } | undefined): Field<In, Out> {
    return new Field<In, Out>(this.expected, this.test, (value, where) => {
      const filled = this.fill(value, where);
      const wrong = filled === undefined ? undefined : check(filled as NonNullable<Out>);
      if (wrong) throw new ShieldConfigError('INVALID_VALUE', wrong.problem.replaceAll('%', where), wrong.fix.replaceAll('%', where));
      return filled;
    });
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any is what lets one Shape hold fields of every type.
type AnyField = Field<any, any>;
export type Shape = { readonly [key: string]: AnyField };
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends { readonly isRequired: true } ? K : never }[keyof S];

/** What a user may pass: every option optional (but the required callbacks), nested ones too. */
export type Input<S extends Shape> = { -readonly [K in keyof S as K extends RequiredKeys<S> ? never : K]?: S[K]['_in'] } & {
  -readonly [K in keyof S as K extends RequiredKeys<S> ? K : never]: S[K]['_in'];
};
/** What the shield works with: defaults filled in. */
export type Output<S extends Shape> = { -readonly [K in keyof S]: S[K]['_out'] };

const typeIs = (type: string) => (value: unknown) => (typeof value === type ? undefined : 'type');

export function string(): Field<string> {
  return new Field('a string', typeIs('string'));
}

export function boolean(): Field<boolean> {
  return new Field('true or false', typeIs('boolean'));
}

export interface NumberRule {
  readonly integer?: boolean;
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Above zero. */
  readonly positive?: boolean;
  readonly max?: number;
}

export function number(rule: NumberRule = {}): Field<number> {
  const parts = [rule.integer ? 'an integer' : 'a finite number'];
  if (rule.positive) parts.push('above 0');
  if (rule.min !== undefined) parts.push(`of at least ${rule.min}`);
  if (rule.max !== undefined) parts.push(`of at most ${rule.max}`);
  return new Field(parts.join(' '), (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'type';
    // A fraction or a negative where a count or a duration belongs is the wrong kind of value.
    if (rule.integer && !Number.isInteger(value)) return 'type';
    if (rule.positive && !(value > 0)) return 'type';
    if (rule.min !== undefined && value < rule.min) return 'value';
    if (rule.max !== undefined && value > rule.max) return 'value';
    return undefined;
  });
}

export function oneOf<const T extends readonly (string | number | boolean)[]>(values: T): Field<T[number]> {
  return new Field(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, (value) => (values.includes(value as T[number]) ? undefined : 'value'));
}

/** A function the app provides; its type is declared here, its presence checked at start-up. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the function's own type is the caller's to declare.
export function fn<F extends (...args: any[]) => unknown>(): Field<F> {
  return new Field('a function', typeIs('function'));
}

/** Anything `accepts` says yes to (an object with the right methods, a path or a list). */
export function custom<T>(expected: string, accepts: (value: unknown) => boolean): Field<T> {
  return new Field(expected, (value) => (accepts(value) ? undefined : 'type'));
}

export function union<A, B>(a: Field<A>, b: Field<B>): Field<A | B> {
  return new Field(`${a.expected} or ${b.expected}`, (value, where) => {
    const codes: string[] = [];
    for (const field of [a, b]) {
      try {
        field.resolve(value, where);
        return undefined;
      } catch (error) {
        codes.push((error as ShieldConfigError).code);
      }
    }
    // The right kind of value but not an allowed one (`secure: 'sometimes'`) is a value error.
    return codes.includes('INVALID_VALUE') ? 'value' : 'type';
  });
}

/** A nested options object: unknown keys refused, each key resolved by its field. */
export function object<S extends Shape>(shape: S): Field<Input<S>, Output<S>> {
  return new Field<Input<S>, Output<S>>(
    'an options object',
    (value) => (isPlainObject(value) ? undefined : 'type'),
    (value, where) => resolveShape(shape, value ?? {}, where) as Output<S>,
  );
}

/** Named entries of one shape (`locks.durations`): `defaults` stay unless an entry replaces them. */
export function record<S extends Shape>(shape: S, defaults: Record<string, Input<S>>): Field<Record<string, Input<S>>, Record<string, Output<S>>> {
  return new Field<Record<string, Input<S>>, Record<string, Output<S>>>(
    'an object of named entries',
    (value) => (isPlainObject(value) ? undefined : 'type'),
    (value, where) => {
      const merged = { ...defaults, ...(value as Record<string, unknown> | undefined) };
      return Object.fromEntries(Object.entries(merged).map(([name, entry]) => [name, resolveShape(shape, entry, `${where}.${name}`)]));
    },
  );
}

/** Check an options object against its shape and fill in the defaults. */
export function resolveShape<S extends Shape>(shape: S, value: unknown, where: string): Output<S> {
  if (!isPlainObject(value)) {
    throw new ShieldConfigError('INVALID_TYPE', `${where} must be an options object, got ${describe(value)}.`, `Pass an object to ${where}.`);
  }
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(shape, key)) {
      throw new ShieldConfigError('UNKNOWN_OPTION', `Unknown option ${where}.${key}.`, `Remove it or use one of: ${Object.keys(shape).join(', ')}.`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(shape)) out[key] = field.resolve(value[key], `${where}.${key}`);
  return out as Output<S>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
