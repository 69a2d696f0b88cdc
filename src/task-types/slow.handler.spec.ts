import { AppConfig } from '../config/app-config';
import { SlowHandler } from './slow.handler';
import { TASK_TYPE_METADATA, TaskAbortedError, TaskContext } from './task-handler';

const configWith = (slowTaskMs: number): AppConfig => ({ handlers: { slowTaskMs } }) as unknown as AppConfig;

const ctx = (signal: AbortSignal = new AbortController().signal): TaskContext => ({ taskId: 'id', attempt: 1, signal });

describe('SlowHandler', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is registered under the "slow" type', () => {
    expect(Reflect.getMetadata(TASK_TYPE_METADATA, SlowHandler)).toBe('slow');
  });

  it('waits SLOW_TASK_MS and reports the duration in seconds', async () => {
    const handler = new SlowHandler(configWith(50));
    const started = Date.now();
    await expect(handler.handle('ignored', ctx())).resolves.toBe('completed after 0.05 seconds');
    // Timers may fire a millisecond early on some platforms; allow a little slack.
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  describe('result formatting (fake timers, no real waiting)', () => {
    it.each([
      [5000, 'completed after 5 seconds'],
      [1000, 'completed after 1 seconds'],
      [1500, 'completed after 1.5 seconds'],
      [1234, 'completed after 1.234 seconds'],
      [250, 'completed after 0.25 seconds'],
      [1, 'completed after 0.001 seconds'],
      [0, 'completed after 0 seconds'],
      [3_600_000, 'completed after 3600 seconds'],
    ])('SLOW_TASK_MS=%p gives %p', async (ms, expected) => {
      jest.useFakeTimers();
      const handler = new SlowHandler(configWith(ms));
      let settled = false;
      const result = handler.handle('', ctx()).finally(() => {
        settled = true;
      });
      let settledBeforeDue = false;
      if (ms > 0) {
        await jest.advanceTimersByTimeAsync(ms - 1);
        settledBeforeDue = settled;
      }
      expect(settledBeforeDue).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(result).resolves.toBe(expected);
    });
  });

  it('rejects with TaskAbortedError soon after the signal aborts', async () => {
    const handler = new SlowHandler(configWith(5000));
    const controller = new AbortController();
    const started = Date.now();
    const result = handler.handle('', ctx(controller.signal));
    setTimeout(() => controller.abort(), 10);
    await expect(result).rejects.toBeInstanceOf(TaskAbortedError);
    // Ended by the abort, before SLOW_TASK_MS (an order, not a speed: a busy machine may be slow).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects at once when the signal is already aborted', async () => {
    jest.useFakeTimers();
    const handler = new SlowHandler(configWith(5000));
    const controller = new AbortController();
    controller.abort();
    // No timer is advanced: the rejection must not depend on the 5 s sleep.
    await expect(handler.handle('', ctx(controller.signal))).rejects.toThrow(TaskAbortedError);
  });

  it('aborting after completion does not change the result', async () => {
    jest.useFakeTimers();
    const handler = new SlowHandler(configWith(100));
    const controller = new AbortController();
    const result = handler.handle('', ctx(controller.signal));
    await jest.advanceTimersByTimeAsync(100);
    controller.abort();
    await expect(result).resolves.toBe('completed after 0.1 seconds');
  });
});
