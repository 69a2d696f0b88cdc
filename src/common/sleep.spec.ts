import { sleep } from './sleep';

describe('sleep', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Tracks whether a promise has settled, without awaiting it. */
  function track(promise: Promise<void>): { settled: () => boolean; promise: Promise<void> } {
    let done = false;
    const tracked = promise.then(() => {
      done = true;
    });
    return { settled: () => done, promise: tracked };
  }

  it('resolves after the given time', async () => {
    jest.useFakeTimers();
    const s = track(sleep(1000));
    await jest.advanceTimersByTimeAsync(999);
    expect(s.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(s.settled()).toBe(true);
  });

  it('resolves after the given time with a signal that never aborts', async () => {
    jest.useFakeTimers();
    const controller = new AbortController();
    const s = track(sleep(500, controller.signal));
    await jest.advanceTimersByTimeAsync(499);
    expect(s.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(s.settled()).toBe(true);
  });

  it('resolves early (without rejecting) when the signal aborts', async () => {
    jest.useFakeTimers();
    const controller = new AbortController();
    const s = track(sleep(60_000, controller.signal));
    await jest.advanceTimersByTimeAsync(10);
    expect(s.settled()).toBe(false);
    controller.abort();
    await jest.advanceTimersByTimeAsync(0);
    expect(s.settled()).toBe(true);
    await expect(s.promise).resolves.toBeUndefined();
    // The timer was cleared: nothing is left pending.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('resolves at once when the signal is already aborted', async () => {
    jest.useFakeTimers();
    const controller = new AbortController();
    controller.abort();
    const s = track(sleep(60_000, controller.signal));
    await jest.advanceTimersByTimeAsync(0);
    expect(s.settled()).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('resolves early with real timers too', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 10);
    await sleep(10_000, controller.signal);
    // Ended by the abort, before its own 10 s (an order, not a speed: a busy machine may be slow).
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('removes its abort listener when the time is up', async () => {
    jest.useFakeTimers();
    const controller = new AbortController();
    const add = jest.spyOn(controller.signal, 'addEventListener');
    const remove = jest.spyOn(controller.signal, 'removeEventListener');
    const s = track(sleep(100, controller.signal));
    await jest.advanceTimersByTimeAsync(100);
    expect(s.settled()).toBe(true);
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0][1]).toBe(add.mock.calls[0][1]);
  });

  it('resolves for a zero delay', async () => {
    jest.useFakeTimers();
    const s = track(sleep(0));
    await jest.advanceTimersByTimeAsync(0);
    expect(s.settled()).toBe(true);
  });
});
