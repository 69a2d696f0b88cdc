import fc from 'fast-check';
import { createValidationPipe } from '../../http/validation.pipe';
import { MAX_RETRY_LIMIT, TYPE_MAX_LENGTH } from '../../queue/task-limits';
import { CreateTaskDto } from './create-task.dto';
import { isPlainlyValidTaskBody } from './create-task.prevalidate';

const pipe = createValidationPipe();
/** The full validation a POST /tasks body gets: the global ValidationPipe on CreateTaskDto. */
const accepts = async (value: unknown): Promise<boolean> =>
  pipe.transform(value, { type: 'body', metatype: CreateTaskDto }).then(
    () => true,
    () => false,
  );

/**
 * Bodies the full validation accepts but the fast check leaves to it on purpose (it may only say
 * "no" more often than the DTO, never "yes" more often):
 * - a prototype other than Object.prototype (JSON bodies never have one);
 * - a type over TYPE_MAX_LENGTH UTF-16 units that class-validator counts as shorter (surrogate
 *   pairs count once, U+FE0E/U+FE0F not at all).
 * Everywhere else the two must give the same answer. Decided before validating: the ValidationPipe
 * deletes `__proto__`, `prototype` and `constructor` keys from the value it is given.
 */
function leftToThePipeByDesign(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return true;
  const { type } = value as { type?: unknown };
  return typeof type === 'string' && type.length > TYPE_MAX_LENGTH && /[\ud800-\udbff][\udc00-\udfff]|[\ufe0e\ufe0f]/.test(type);
}

/** An own enumerable property, whatever its name (plain assignment of `__proto__` would set the prototype). */
function withOwn(target: object, key: string, value: unknown): object {
  return Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Near-valid bodies: a valid body, then at most one field mutated, often to a boundary value
// ---------------------------------------------------------------------------------------------

const ascii = (min: number, max: number) => fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max });
/** Characters that make UTF-16 length, code points and class-validator's length differ. */
const trickyUnit = fc.constantFrom('a', ' ', '😀', '\ufe0f', '\ufe0e', '\ud800', '\udc00', 'é', 'e\u0301', '\u0000');

const validType = fc.oneof(
  ascii(1, TYPE_MAX_LENGTH),
  fc.constantFrom(1, 2, TYPE_MAX_LENGTH - 1, TYPE_MAX_LENGTH).chain((n) => ascii(n, n)),
  fc.constantFrom('echo', 'sum', 'slow', 'flaky', 'reverse'),
);
const validBody = fc.record(
  { type: validType, payload: fc.oneof(fc.string(), fc.constant(''), fc.string({ unit: 'binary' })), max_retry: fc.integer({ min: 0, max: MAX_RETRY_LIMIT }) },
  { requiredKeys: ['type'] },
);

const jsonish = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}), fc.constant(undefined));

const typeValue = fc.oneof(
  fc.constantFrom(0, 1, 2, TYPE_MAX_LENGTH - 1, TYPE_MAX_LENGTH, TYPE_MAX_LENGTH + 1, TYPE_MAX_LENGTH + 2).chain((n) => ascii(n, n)),
  fc.integer({ min: TYPE_MAX_LENGTH - 8, max: TYPE_MAX_LENGTH + 4 }).chain((n) => fc.array(trickyUnit, { minLength: n, maxLength: n }).map((us) => us.join(''))),
  ascii(TYPE_MAX_LENGTH + 1, 300),
  fc.constantFrom(' ', '\u0000', '\ufe0f'),
  jsonish.filter((x) => typeof x !== 'string'),
  fc.array(fc.string(), { maxLength: 2 }),
);
const maxRetryValue = fc.oneof(
  fc.constantFrom(-1, 0, MAX_RETRY_LIMIT, MAX_RETRY_LIMIT + 1, -0, 1.5, MAX_RETRY_LIMIT - 0.5, MAX_RETRY_LIMIT + 1e-9, -1e-9),
  fc.constantFrom(NaN, Infinity, -Infinity, 2 ** 53, 1e21, Number.MIN_VALUE, Number.MAX_VALUE),
  fc.integer({ min: -5, max: MAX_RETRY_LIMIT + 5 }),
  fc.double(),
  fc.constantFrom('3', '', '0x10', null, true, false, [], {}, [3], undefined),
);
const payloadValue = fc.oneof(fc.string(), fc.constantFrom(null, 0, 1, true, [], {}, ['x'], undefined), fc.double());
const extraKey = fc.oneof(
  fc.constantFrom('id', 'status', 'extra', 'Type', 'type ', 'maxRetry', 'max-retry', '', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'),
  fc.string({ maxLength: 8 }).filter((k) => !['type', 'payload', 'max_retry', '__proto__', 'constructor'].includes(k)),
);

type Mutation =
  | { kind: 'none' }
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'drop'; key: 'type' | 'payload' | 'max_retry' }
  | { kind: 'prototype'; proto: 'null' | 'class' }
  | { kind: 'replace'; value: unknown };

class NotPlain {}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  { weight: 4, arbitrary: typeValue.map((value): Mutation => ({ kind: 'set', key: 'type', value })) },
  { weight: 4, arbitrary: maxRetryValue.map((value): Mutation => ({ kind: 'set', key: 'max_retry', value })) },
  { weight: 2, arbitrary: payloadValue.map((value): Mutation => ({ kind: 'set', key: 'payload', value })) },
  { weight: 2, arbitrary: fc.tuple(extraKey, jsonish).map(([key, value]): Mutation => ({ kind: 'set', key, value })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor'), jsonish).map(([key, value]): Mutation => ({ kind: 'set', key, value })) },
  { weight: 1, arbitrary: fc.constantFrom('type', 'payload', 'max_retry').map((key): Mutation => ({ kind: 'drop', key })) },
  { weight: 1, arbitrary: fc.constantFrom('null', 'class').map((proto): Mutation => ({ kind: 'prototype', proto })) },
  { weight: 1, arbitrary: fc.oneof(jsonish, fc.anything()).map((value): Mutation => ({ kind: 'replace', value })) },
);

function mutate(valid: Record<string, unknown>, m: Mutation): unknown {
  if (m.kind === 'replace') return m.value;
  const base = m.kind === 'prototype' ? (m.proto === 'null' ? Object.create(null) : new NotPlain()) : {};
  const body = Object.assign(base as object, valid);
  if (m.kind === 'set') withOwn(body, m.key, m.value);
  if (m.kind === 'drop') delete (body as Record<string, unknown>)[m.key];
  return body;
}

const nearValidBody = fc.tuple(validBody, mutation).map(([valid, m]) => mutate(valid, m));

describe('isPlainlyValidTaskBody agrees with the DTO validation', () => {
  it.each<[string, unknown, boolean, boolean]>([
    // [what, body, fast check says yes, ValidationPipe accepts]
    ['type of length 1', { type: 'e' }, true, true],
    ['type of length 64', { type: 'e'.repeat(64) }, true, true],
    ['type of length 0', { type: '' }, false, false],
    ['type of length 65', { type: 'e'.repeat(65) }, false, false],
    ['type of 64 emoji (128 UTF-16 units)', { type: '😀'.repeat(64) }, false, true],
    ['type of 65 emoji', { type: '😀'.repeat(65) }, false, false],
    ['type of 64 letters and a variation selector', { type: `${'e'.repeat(64)}\ufe0f` }, false, true],
    ['type of one space', { type: ' ' }, true, true],
    ['type a number', { type: 5 }, false, false],
    ['type a String object', { type: new String('echo') }, false, false],
    ['no type', {}, false, false],
    ['max_retry -1', { type: 'echo', max_retry: -1 }, false, false],
    ['max_retry 0', { type: 'echo', max_retry: 0 }, true, true],
    ['max_retry -0', { type: 'echo', max_retry: -0 }, true, true],
    ['max_retry 25', { type: 'echo', max_retry: 25 }, true, true],
    ['max_retry 26', { type: 'echo', max_retry: 26 }, false, false],
    ['max_retry 1.5', { type: 'echo', max_retry: 1.5 }, false, false],
    ['max_retry 25 + 1e-9', { type: 'echo', max_retry: 25 + 1e-9 }, false, false],
    ['max_retry NaN', { type: 'echo', max_retry: NaN }, false, false],
    ['max_retry Infinity', { type: 'echo', max_retry: Infinity }, false, false],
    ['max_retry "3"', { type: 'echo', max_retry: '3' }, false, false],
    ['max_retry null', { type: 'echo', max_retry: null }, false, false],
    ['payload ""', { type: 'echo', payload: '' }, true, true],
    ['payload null', { type: 'echo', payload: null }, false, false],
    ['payload a number', { type: 'echo', payload: 5 }, false, false],
    ['payload an object', { type: 'echo', payload: {} }, false, false],
    ['all three fields', { type: 'sum', payload: '[1]', max_retry: 25 }, true, true],
    ['an extra key', { type: 'echo', extra: 1 }, false, false],
    ['an extra key holding undefined', { type: 'echo', extra: undefined }, false, false],
    // Keys the transform used to drop without a word (Nest strips the first three, class-transformer
    // skips names of inherited methods): unknown fields like any other.
    ['an own __proto__ key', JSON.parse('{"type":"echo","__proto__":{}}'), false, false],
    ['an own constructor key', { type: 'echo', constructor: 1 }, false, false],
    ['an own prototype key', { type: 'echo', prototype: {} }, false, false],
    ['a toString key', { type: 'echo', toString: 'x' }, false, false],
    ['a hasOwnProperty key', { type: 'echo', hasOwnProperty: 'x' }, false, false],
    ['a null prototype', Object.assign(Object.create(null), { type: 'echo' }), false, true],
    ['an inherited key', Object.assign(Object.create({ inherited: 1 }), { type: 'echo' }), false, true],
    ['null', null, false, false],
    ['a string', 'echo', false, false],
    ['an array of a body', [{ type: 'echo' }], false, false],
  ])('%s', async (_what, body, fast, full) => {
    expect({ fast: isPlainlyValidTaskBody(body), full: await accepts(body) }).toEqual({ fast, full });
  });

  it('on every near-valid body: the fast check says yes exactly when the DTO accepts (bar the documented deferrals)', async () => {
    const seen = { plainlyValid: 0, notPlainlyValid: 0, accepted: 0, typeLengths: new Set<number>(), maxRetries: new Set<unknown>() };
    await fc.assert(
      fc.asyncProperty(nearValidBody, async (value) => {
        const fast = isPlainlyValidTaskBody(value);
        const deferred = leftToThePipeByDesign(value);
        const full = await accepts(value);
        seen[fast ? 'plainlyValid' : 'notPlainlyValid'] += 1;
        if (full) seen.accepted += 1;
        const { type, max_retry } = (value ?? {}) as { type?: unknown; max_retry?: unknown };
        if (typeof type === 'string') seen.typeLengths.add(type.length);
        seen.maxRetries.add(max_retry);
        expect({ fast, full }).toEqual({ fast: full && !deferred, full });
      }),
      { numRuns: 3000 },
    );
    // The generator really lives at the edges: both answers are common, every boundary is reached.
    expect(seen.plainlyValid).toBeGreaterThan(3000 * 0.3);
    expect(seen.notPlainlyValid).toBeGreaterThan(3000 * 0.3);
    for (const n of [0, 1, TYPE_MAX_LENGTH, TYPE_MAX_LENGTH + 1]) expect(seen.typeLengths).toContain(n);
    for (const n of [-1, 0, MAX_RETRY_LIMIT, MAX_RETRY_LIMIT + 1, 1.5]) expect(seen.maxRetries).toContain(n);
  });
});
