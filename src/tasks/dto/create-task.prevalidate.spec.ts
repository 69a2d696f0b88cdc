import fc from 'fast-check';
import { createValidationPipe } from '../../http/validation.pipe';
import { CreateTaskDto } from './create-task.dto';
import { isPlainlyValidTaskBody } from './create-task.prevalidate';

const pipe = createValidationPipe();
const accepts = async (value: unknown): Promise<boolean> =>
  pipe.transform(value, { type: 'body', metatype: CreateTaskDto }).then(
    () => true,
    () => false,
  );

describe('isPlainlyValidTaskBody', () => {
  it.each([
    [{ type: 'echo' }],
    [{ type: 'echo', payload: 'x', max_retry: 0 }],
    [{ type: 'sum', payload: '[1]', max_retry: 25 }],
    [{ type: 'e'.repeat(64) }],
  ])('says yes to %j', (body) => {
    expect(isPlainlyValidTaskBody(body)).toBe(true);
  });

  it.each([
    [null],
    ['echo'],
    [[{ type: 'echo' }]],
    [{}],
    [{ type: '' }],
    [{ type: 'e'.repeat(65) }],
    [{ type: 5 }],
    [{ type: 'echo', payload: null }],
    [{ type: 'echo', payload: 5 }],
    [{ type: 'echo', max_retry: '3' }],
    [{ type: 'echo', max_retry: 26 }],
    [{ type: 'echo', max_retry: -1 }],
    [{ type: 'echo', max_retry: 1.5 }],
    [{ type: 'echo', max_retry: null }],
    [{ type: 'echo', extra: 1 }],
    [JSON.parse('{"type":"echo","__proto__":{}}')],
    [Object.assign(Object.create({ inherited: 1 }), { type: 'echo' })],
  ])('leaves %j to the ValidationPipe', (body) => {
    expect(isPlainlyValidTaskBody(body)).toBe(false);
  });

  it('never says yes to a body the ValidationPipe rejects (random bodies)', async () => {
    const field = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 70 }),
      fc.integer({ min: -5, max: 30 }),
      fc.double(),
      fc.constant(null),
      fc.boolean(),
      fc.constant(undefined),
    );
    const body = fc.oneof(
      fc.record({ type: field, payload: field, max_retry: field }, { requiredKeys: [] }),
      fc.dictionary(fc.oneof(fc.constantFrom('type', 'payload', 'max_retry', '__proto__', 'x'), fc.string()), field),
      fc.anything(),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        if (isPlainlyValidTaskBody(value)) expect(await accepts(value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
