import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { createValidationPipe } from '../../http/validation.pipe';
import { CreateTaskDto } from './create-task.dto';

describe('CreateTaskDto validation', () => {
  let pipe: ValidationPipe;

  beforeEach(() => {
    pipe = createValidationPipe();
  });

  const validate = (value: unknown): Promise<unknown> => pipe.transform(value, { type: 'body', metatype: CreateTaskDto });

  /** The 400's message; fails the test when the value is accepted or another error is thrown. */
  async function rejection(value: unknown): Promise<string> {
    const error = await validate(value).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(BadRequestException);
    const exception = error as BadRequestException;
    expect(exception.getStatus()).toBe(400);
    return exception.message;
  }

  describe('valid bodies', () => {
    it.each([
      [{ type: 'echo', payload: 'hi', max_retry: 3 }],
      [{ type: 'echo' }],
      [{ type: 'echo', payload: '' }],
      [{ type: 'sum', payload: '[1, 2, 5]', max_retry: 0 }],
      [{ type: 'slow', max_retry: 25 }],
      [{ type: 'x'.repeat(64) }],
    ])('accepts %p', async (body) => {
      const result = await validate(body);
      expect(result).toBeInstanceOf(CreateTaskDto);
      expect(result).toEqual(expect.objectContaining(body));
    });

    it('leaves absent optional fields undefined (defaults are applied by the service)', async () => {
      const result = (await validate({ type: 'echo' })) as CreateTaskDto;
      expect(result.type).toBe('echo');
      expect(result.payload).toBeUndefined();
      expect(result.max_retry).toBeUndefined();
    });

    it('keeps the values as given (no coercion)', async () => {
      const result = (await validate({ type: 'echo', payload: '007', max_retry: 7 })) as CreateTaskDto;
      expect(result.payload).toBe('007');
      expect(result.max_retry).toBe(7);
    });
  });

  describe('type', () => {
    it('is required', async () => {
      const message = await rejection({ payload: 'x' });
      expect(message).toContain('type must be a string');
    });

    it('must not be empty', async () => {
      const message = await rejection({ type: '' });
      expect(message).toContain('type must not be empty');
    });

    it.each([[42], [null], [true], [['echo']], [{ name: 'echo' }]])('must be a string, not %p', async (type) => {
      const message = await rejection({ type });
      expect(message).toMatch(/^type /);
      expect(message).toContain('type must be a string');
    });

    it('must be at most 64 characters', async () => {
      const message = await rejection({ type: 'x'.repeat(65) });
      expect(message).toContain('type must be at most 64 characters');
    });
  });

  describe('payload', () => {
    it.each([[123], [null], [{ a: 1 }], [['a']], [false]])('must be a string, not %p', async (payload) => {
      const message = await rejection({ type: 'echo', payload });
      expect(message).toBe('payload must be a string');
    });
  });

  describe('max_retry', () => {
    it.each([[-1], [26], [1000]])('rejects %p as out of range', async (maxRetry) => {
      const message = await rejection({ type: 'echo', max_retry: maxRetry });
      expect(message).toBe('max_retry must be between 0 and 25');
    });

    it.each([[2.5], [0.1]])('rejects the fraction %p', async (maxRetry) => {
      const message = await rejection({ type: 'echo', max_retry: maxRetry });
      expect(message).toContain('max_retry must be an integer');
    });

    it.each([['3'], [''], [true], [[3]], [{ n: 3 }]])('rejects the non-number %p (no implicit conversion)', async (maxRetry) => {
      const message = await rejection({ type: 'echo', max_retry: maxRetry });
      expect(message).toContain('max_retry must be an integer');
    });

    it('rejects an explicit null (a wrong type, not an absence)', async () => {
      const message = await rejection({ type: 'echo', max_retry: null });
      expect(message).toContain('max_retry must be an integer');
    });

    it.each([[Number.NaN], [Number.POSITIVE_INFINITY]])('rejects %p', async (maxRetry) => {
      const message = await rejection({ type: 'echo', max_retry: maxRetry });
      expect(message).toContain('max_retry');
    });
  });

  describe('unknown fields', () => {
    it('rejects an unknown field and names it', async () => {
      const message = await rejection({ type: 'echo', priority: 5 });
      expect(message).toContain('priority');
      expect(message).toMatch(/priority.*should not exist/);
    });

    it('names every unknown field', async () => {
      const message = await rejection({ type: 'echo', foo: 1, bar: 2 });
      expect(message).toContain('foo');
      expect(message).toContain('bar');
    });

    it('rejects camelCase maxRetry (the API field is max_retry)', async () => {
      const message = await rejection({ type: 'echo', maxRetry: 3 });
      expect(message).toContain('maxRetry');
    });
  });

  describe('several errors', () => {
    it('are all named in one message, separated by "; "', async () => {
      const message = await rejection({ type: 5, payload: 7, max_retry: '3', extra: true });
      const parts = message.split('; ');
      expect(parts).toEqual(
        expect.arrayContaining([
          'type must be a string',
          'payload must be a string',
          'max_retry must be an integer',
          expect.stringContaining('extra'),
        ]),
      );
    });

    it('does not repeat one message twice', async () => {
      const message = await rejection({ type: 'echo', max_retry: -5 });
      const parts = message.split('; ');
      expect(new Set(parts).size).toBe(parts.length);
    });

    it('reports a missing type together with a bad max_retry', async () => {
      const message = await rejection({ max_retry: 99 });
      expect(message).toContain('type must be a string');
      expect(message).toContain('max_retry must be between 0 and 25');
    });
  });
});
