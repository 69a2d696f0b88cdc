import { AppConfig } from '../config/app-config';
import { RandomSource } from '../common/random';
import { FlakyHandler } from './flaky.handler';
import { NonRetryableError, TASK_TYPE_METADATA, TaskContext } from './task-handler';

const configWith = (flakyFailureRate: number): AppConfig =>
  ({ handlers: { flakyFailureRate, slowTaskMs: 0 } }) as unknown as AppConfig;

const fixedRandom = (value: number): RandomSource & { calls: number } => {
  const source = {
    calls: 0,
    next(): number {
      source.calls += 1;
      return value;
    },
  };
  return source;
};

const sequence = (values: number[]): RandomSource => {
  let i = 0;
  return { next: () => values[i++ % values.length] };
};

const ctx = (attempt = 1): TaskContext => ({ taskId: 'id', attempt, signal: new AbortController().signal });

describe('FlakyHandler', () => {
  it('is registered under the "flaky" type', () => {
    expect(Reflect.getMetadata(TASK_TYPE_METADATA, FlakyHandler)).toBe('flaky');
  });

  describe('with failure rate 0.5', () => {
    it('fails with a plain, retryable Error when the draw is below the rate', async () => {
      const random = fixedRandom(0.1);
      const handler = new FlakyHandler(configWith(0.5), random);
      const error = await handler.handle('p', ctx(2)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(NonRetryableError);
      expect((error as Error).message).toBe('flaky task failed on attempt 2 (simulated failure)');
      expect(random.calls).toBe(1);
    });

    it('succeeds when the draw is above the rate', async () => {
      const random = fixedRandom(0.9);
      const handler = new FlakyHandler(configWith(0.5), random);
      await expect(handler.handle('my payload', ctx(3))).resolves.toBe('flaky: succeeded on attempt 3: my payload');
      expect(random.calls).toBe(1);
    });

    it('succeeds when the draw equals the rate (fails only strictly below)', async () => {
      const handler = new FlakyHandler(configWith(0.5), fixedRandom(0.5));
      await expect(handler.handle('x', ctx())).resolves.toBe('flaky: succeeded on attempt 1: x');
    });

    it('draws a fresh number on every attempt', async () => {
      const handler = new FlakyHandler(configWith(0.5), sequence([0.1, 0.2, 0.7]));
      await expect(handler.handle('x', ctx(1))).rejects.toThrow('attempt 1');
      await expect(handler.handle('x', ctx(2))).rejects.toThrow('attempt 2');
      await expect(handler.handle('x', ctx(3))).resolves.toBe('flaky: succeeded on attempt 3: x');
    });
  });

  it.each([0, 0.1, 0.5, 0.999999])('rate 0 never fails (draw %p)', async (draw) => {
    const handler = new FlakyHandler(configWith(0), fixedRandom(draw));
    await expect(handler.handle('ok', ctx())).resolves.toBe('flaky: succeeded on attempt 1: ok');
  });

  it.each([0, 0.1, 0.5, 0.999999])('rate 1 always fails (draw %p)', async (draw) => {
    const handler = new FlakyHandler(configWith(1), fixedRandom(draw));
    const failure = handler.handle('x', ctx());
    await expect(failure).rejects.toThrow('simulated failure');
    await expect(handler.handle('x', ctx())).rejects.not.toBeInstanceOf(NonRetryableError);
  });
});
