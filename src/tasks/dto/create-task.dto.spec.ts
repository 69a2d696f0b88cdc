import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { createValidationPipe } from '../../http/validation.pipe';
import { CreateTaskDto } from './create-task.dto';

describe('CreateTaskDto validation', () => {
  /** The pipe as the app runs it: a plainly valid body takes the fast path (PlainlyValidWhen). */
  let pipe: ValidationPipe;
  /** The full validation (class-transformer and class-validator), which every other body gets. */
  let full: ValidationPipe;

  beforeEach(() => {
    pipe = createValidationPipe();
    full = createValidationPipe({ fastPaths: false });
  });

  const validate = (value: unknown): Promise<unknown> => full.transform(value, { type: 'body', metatype: CreateTaskDto });

  /** The 400's message from the app's pipe; fails the test when the value is accepted or another error is thrown. */
  async function rejection(value: unknown): Promise<string> {
    const error = await pipe.transform(value, { type: 'body', metatype: CreateTaskDto }).then(
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

    it.each([
      [{ type: 'echo', payload: 'hi', max_retry: 3 }],
      [{ type: 'echo', payload: { a: [1, { b: null }] }, queue: 'emails', priority: 'high', timeout_ms: 5000 }],
      [{ type: 'echo', delay_ms: 0, backoff: { type: 'fixed', delay_ms: 10, max_delay_ms: 100, jitter: true } }],
    ])('hands a plainly valid body %p on as it is in the app (no copy), equal to what the full validation makes of it', async (body) => {
      const result = await pipe.transform(body, { type: 'body', metatype: CreateTaskDto });
      expect(result).toBe(body);
      expect(result).toEqual(await validate(body));
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
    // Any JSON value passes the DTO; whether it suits the type is the service's check (a string for the demo types).
    it.each([[123], [null], [{ a: 1 }], [['a']], [false], [{ nested: { deep: [1, { x: null }] } }]])('may be any JSON value: %p, kept as it is', async (payload) => {
      const result = (await validate({ type: 'echo', payload })) as CreateTaskDto;
      expect(result).toBeInstanceOf(CreateTaskDto);
      expect(result.payload).toEqual(payload);
    });

    it('keeps keys that are Object.prototype names and the very same object (no copy, nothing stripped)', async () => {
      const payload = JSON.parse('{"constructor":1,"toString":"x","__proto__":{"prototype":2},"hasOwnProperty":[]}') as object;
      const result = (await validate({ type: 'echo', payload })) as CreateTaskDto;
      expect(result.payload).toBe(payload);
      expect(Object.keys(payload)).toEqual(['constructor', 'toString', '__proto__', 'hasOwnProperty']);
    });

    it('the body around it is still checked strictly', async () => {
      expect(await rejection({ type: 'echo', payload: { a: 1 }, toString: 'x' })).toBe('property toString should not exist');
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
      const message = await rejection({ type: 'echo', urgency: 5 });
      expect(message).toContain('urgency');
      expect(message).toMatch(/urgency.*should not exist/);
    });

    it('rejects idempotency_key in a POST /tasks body (it is a header there; a field of batch elements only)', async () => {
      expect(await rejection({ type: 'echo', idempotency_key: 'k' })).toBe('property idempotency_key should not exist');
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

  describe('delay_ms', () => {
    it.each([[0], [1], [31_536_000_000]])('accepts %p', async (delay) => {
      await expect(validate({ type: 'echo', delay_ms: delay })).resolves.toMatchObject({ delay_ms: delay });
    });

    it.each([[-1], [31_536_000_001]])('rejects %p as out of range (0 .. 365 days)', async (delay) => {
      expect(await rejection({ type: 'echo', delay_ms: delay })).toBe('delay_ms must be between 0 and 31536000000 (365 days)');
    });

    it.each([[1.5], ['100'], [null], [true]])('rejects %p as not an integer', async (delay) => {
      expect(await rejection({ type: 'echo', delay_ms: delay })).toBe('delay_ms must be an integer');
    });
  });

  describe('run_at', () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();

    it.each([
      [inAnHour],
      ['2030-01-31T12:00:00Z'.replace('2030', String(new Date().getUTCFullYear() - 1))],
      ['2001-02-03T04:05:06.789+01:00'],
      ['2001-02-03T04:05-05:30'],
      ['2001-02-03t04:05:06,5z'],
      ['2000-02-29T00:00:00Z'],
    ])('accepts %p (a past time means now)', async (runAt) => {
      await expect(validate({ type: 'echo', run_at: runAt })).resolves.toMatchObject({ run_at: runAt });
    });

    it.each([
      ['2030-01-31'],
      ['2030-01-31T12:00:00'],
      ['2030-01-31 12:00:00Z'],
      ['2030-02-30T00:00:00Z'],
      ['2001-02-29T00:00:00Z'],
      ['2030-01-31T24:00:00Z'],
      ['2030-01-31T12:60:00Z'],
      ['2030-01-31T12:00:60Z'],
      ['2030-13-01T00:00:00Z'],
      ['2030-01-31T12:00:00+24:00'],
      ['2030-01-31T12:00:00+0100'],
      ['1800000000000'],
      ['tomorrow'],
      [''],
    ])('rejects %p as not an ISO 8601 date-time with an offset', async (runAt) => {
      expect(await rejection({ type: 'echo', run_at: runAt })).toBe(
        'run_at must be an ISO 8601 date-time with a UTC offset, e.g. 2030-01-31T12:00:00Z',
      );
    });

    it('rejects a time more than 365 days ahead', async () => {
      const far = new Date(Date.now() + 365 * 86_400_000 + 60_000).toISOString();
      expect(await rejection({ type: 'echo', run_at: far })).toBe('run_at must not be more than 365 days ahead');
    });

    it.each([[1_800_000_000_000], [null], [{}]])('rejects the non-string %p', async (runAt) => {
      expect(await rejection({ type: 'echo', run_at: runAt })).toBe('run_at must be a string');
    });

    it('rejects delay_ms and run_at together', async () => {
      expect(await rejection({ type: 'echo', delay_ms: 10, run_at: inAnHour })).toBe('give either delay_ms or run_at, not both');
    });
  });

  describe('priority', () => {
    it.each([['high'], ['normal'], ['low']])('accepts %p', async (priority) => {
      await expect(validate({ type: 'echo', priority })).resolves.toMatchObject({ priority });
    });

    it.each([['HIGH'], ['urgent'], [''], [1], [null]])('rejects %p', async (priority) => {
      expect(await rejection({ type: 'echo', priority })).toBe('priority must be one of: high, normal, low');
    });
  });

  describe('timeout_ms', () => {
    it.each([[1], [86_400_000]])('accepts %p', async (timeout) => {
      await expect(validate({ type: 'echo', timeout_ms: timeout })).resolves.toMatchObject({ timeout_ms: timeout });
    });

    it.each([[0], [86_400_001]])('rejects %p as out of range (1 ms .. 24 h)', async (timeout) => {
      expect(await rejection({ type: 'echo', timeout_ms: timeout })).toBe('timeout_ms must be between 1 and 86400000 (24 h)');
    });

    it.each([[2.5], ['1000'], [null]])('rejects %p as not an integer', async (timeout) => {
      expect(await rejection({ type: 'echo', timeout_ms: timeout })).toBe('timeout_ms must be an integer');
    });
  });

  describe('backoff', () => {
    it.each([
      [{}],
      [{ type: 'fixed' }],
      [{ type: 'exponential', delay_ms: 1, max_delay_ms: 604_800_000, jitter: true }],
      [{ delay_ms: 3_600_000, max_delay_ms: 3_600_000 }],
      [{ max_delay_ms: 5 }],
    ])('accepts %p', async (backoff) => {
      await expect(validate({ type: 'echo', backoff })).resolves.toMatchObject({ backoff });
    });

    it.each<[unknown, string]>([
      ['fixed', 'backoff must be an object'],
      [null, 'backoff must be an object'],
      [[{ type: 'fixed' }], 'backoff must be an object'],
      [{ type: 'linear' }, 'backoff.type must be one of: exponential, fixed'],
      [{ delay_ms: 0 }, 'backoff.delay_ms must be between 1 and 3600000'],
      [{ delay_ms: 3_600_001 }, 'backoff.delay_ms must be between 1 and 3600000'],
      [{ delay_ms: '5' }, 'backoff.delay_ms must be an integer'],
      [{ max_delay_ms: 604_800_001 }, 'backoff.max_delay_ms must be between 1 and 604800000'],
      [{ max_delay_ms: 1.5 }, 'backoff.max_delay_ms must be an integer'],
      [{ delay_ms: 500, max_delay_ms: 499 }, 'backoff.max_delay_ms must not be smaller than backoff.delay_ms'],
      [{ jitter: 'yes' }, 'backoff.jitter must be a boolean'],
      [{ jitter: 1 }, 'backoff.jitter must be a boolean'],
      [{ type: 'fixed', extra: 1 }, 'property backoff.extra should not exist'],
    ])('rejects %p: %s', async (backoff, message) => {
      expect(await rejection({ type: 'echo', backoff })).toBe(message);
    });
  });

  describe('several errors', () => {
    it('are all named in one message, separated by "; "', async () => {
      const message = await rejection({ type: 5, payload: 7, max_retry: '3', extra: true });
      const parts = message.split('; ');
      expect(parts).toEqual(
        expect.arrayContaining([
          'type must be a string',
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
