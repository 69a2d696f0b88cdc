import { formatTwoDecimals, SumHandler } from './sum.handler';
import { InvalidPayloadError, NonRetryableError, TASK_TYPE_METADATA, TaskContext, TaskHandler } from './task-handler';

const ctx = (): TaskContext => ({ taskId: 'id', attempt: 1, signal: new AbortController().signal });

describe('SumHandler', () => {
  const handler: Required<TaskHandler> = new SumHandler();

  it('is registered under the "sum" type', () => {
    expect(Reflect.getMetadata(TASK_TYPE_METADATA, SumHandler)).toBe('sum');
  });

  describe('valid payloads', () => {
    it.each([
      ['[1, 2, 5]', '8.00'],
      ['[1,2,5]', '8.00'],
      ['[]', '0.00'],
      [' [ ] ', '0.00'],
      ['[0.1,0.2]', '0.30'],
      ['[0.1, 0.2, 0.3]', '0.60'],
      ['[42]', '42.00'],
      ['[-1, -2]', '-3.00'],
      ['[-5, 2]', '-3.00'],
      ['[10, -10]', '0.00'],
      ['[1.234, 2.345]', '3.58'],
      ['[1e3, 2.5e2]', '1250.00'],
      ['[0.001]', '0.00'],
      ['[1e20]', '100000000000000000000.00'],
      ['[1e21]', '1000000000000000000000.00'],
      ['[1e21, 1e21]', '2000000000000000000000.00'],
      ['[-1e21]', '-1000000000000000000000.00'],
      ['[1e300]', `${BigInt(1e300).toString()}.00`],
    ])('sums %p to %p', async (payload, expected) => {
      await expect(handler.handle(payload, ctx())).resolves.toBe(expected);
    });

    it('never prints exponent notation for very large sums', async () => {
      const result = await handler.handle('[1e25, 1e25]', ctx());
      expect(result).not.toMatch(/e/i);
      expect(result).toMatch(/^\d+\.00$/);
      // The exact value of the double nearest 2e25, as Go's %.2f prints it.
      expect(result).toBe('20000000000000001811939328.00');
    });

    it.each(['[1, 2, 5]', '[]', '[0.1,0.2]', '[-3]', '[1e21]'])('validatePayload accepts %p', (payload) => {
      expect(() => handler.validatePayload(payload)).not.toThrow();
    });
  });

  describe('invalid payloads', () => {
    it.each([
      ['not JSON', 'hello'],
      ['empty string', ''],
      ['truncated JSON', '[1, 2'],
      ['JSON object', '{"a": 1}'],
      ['JSON number', '5'],
      ['JSON string', '"[1,2]"'],
      ['JSON null', 'null'],
      ['JSON boolean', 'true'],
      ['array containing a string', '[1, "2"]'],
      ['array containing null', '[1, null]'],
      ['array containing a boolean', '[true]'],
      ['array containing a nested array', '[1, [2]]'],
      ['array containing an object', '[{"n": 1}]'],
      ['overflowing sum', '[1e308, 1e308]'],
      ['overflowing negative sum', '[-1e308, -1e308]'],
      ['number literal that overflows', '[1e999]'],
    ])('handle rejects %s (%p) with InvalidPayloadError', async (_name, payload) => {
      await expect(handler.handle(payload, ctx())).rejects.toBeInstanceOf(InvalidPayloadError);
      // InvalidPayloadError is non-retryable: the task fails at once.
      await expect(handler.handle(payload, ctx())).rejects.toBeInstanceOf(NonRetryableError);
    });

    it.each([
      ['not JSON', 'hello'],
      ['JSON object', '{"a": 1}'],
      ['array containing a string', '[1, "2"]'],
      ['array containing null', '[null]'],
      ['array containing a boolean', '[false]'],
      ['array containing a nested array', '[[1]]'],
      ['overflowing sum', '[1e308, 1e308]'],
    ])('validatePayload throws InvalidPayloadError for %s (%p)', (_name, payload) => {
      expect(() => handler.validatePayload(payload)).toThrow(InvalidPayloadError);
    });

    it('names the offending element index', () => {
      expect(() => handler.validatePayload('[1, 2, "x"]')).toThrow('sum payload element 2 is not a finite number');
    });

    it('explains the expected shape when the payload is not an array', () => {
      expect(() => handler.validatePayload('{"a": 1}')).toThrow(/JSON array of numbers/);
      expect(() => handler.validatePayload('oops')).toThrow(/JSON array of numbers/);
    });

    it('reports overflow of the total', () => {
      expect(() => handler.validatePayload('[1e308, 1e308]')).toThrow(/overflows/);
    });

    it('validatePayload and handle reject the same payloads with the same message', async () => {
      for (const payload of ['x', '{}', '[1, "a"]', '[1e308, 1e308]']) {
        let syncMessage = '';
        try {
          handler.validatePayload(payload);
        } catch (err) {
          syncMessage = (err as Error).message;
        }
        expect(syncMessage).not.toBe('');
        await expect(handler.handle(payload, ctx())).rejects.toThrow(syncMessage);
      }
    });
  });
});

describe('formatTwoDecimals', () => {
  it.each([
    [0, '0.00'],
    [8, '8.00'],
    [0.30000000000000004, '0.30'],
    [-3, '-3.00'],
    [1.005, '1.00'], // 1.005 is 1.00499999... in binary
    [123.456, '123.46'],
    [999999999999999900000, '999999999999999868928.00'], // just below 1e21: still toFixed
    [1e21, '1000000000000000000000.00'],
    [-1e21, '-1000000000000000000000.00'],
    [1.5e21, '1500000000000000000000.00'],
    [1e22, '10000000000000000000000.00'],
    [2 ** 80, '1208925819614629174706176.00'],
  ])('formats %p as %p', (n, expected) => {
    expect(formatTwoDecimals(n)).toBe(expected);
  });

  // Go's %.2f rounds exact ties half to even; toFixed would give 0.13, 0.63, -0.13.
  it.each([
    [0.125, '0.12'],
    [0.375, '0.38'],
    [0.625, '0.62'],
    [0.875, '0.88'],
    [-0.125, '-0.12'],
    [2.5, '2.50'],
    [123456.125, '123456.12'],
    [-0.005, '-0.01'], // not a tie: -0.005 is -0.00500000000000000010408... in binary
  ])('rounds %p like Go: %p', (n, expected) => {
    expect(formatTwoDecimals(n)).toBe(expected);
  });

  it.each([1e21, 1e25, -1e30, 1.7976931348623157e308])('prints %p without exponent notation', (n) => {
    const text = formatTwoDecimals(n);
    expect(text).not.toMatch(/e/i);
    expect(text).toMatch(/^-?\d+\.00$/);
  });
});
