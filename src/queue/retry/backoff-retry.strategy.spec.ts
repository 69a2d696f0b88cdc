import { BackoffRetryStrategy } from './backoff-retry.strategy';

describe('BackoffRetryStrategy without a task policy (RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS)', () => {
  describe('with base 1000 ms and a one-hour cap', () => {
    const strategy = new BackoffRetryStrategy(1000, 3_600_000);

    it.each([
      [0, 1000],
      [1, 2000],
      [2, 4000],
      [3, 8000],
      [4, 16_000],
      [10, 1_024_000],
      [11, 2_048_000],
    ])('retriesSpent %p waits %p ms', (retries, expected) => {
      expect(strategy.delayMs(retries)).toBe(expected);
    });

    it.each([
      [12, 3_600_000], // 4_096_000 uncapped
      [25, 3_600_000],
      [1000, 3_600_000], // 2^1000 would be Infinity without the cap
      [Number.POSITIVE_INFINITY, 3_600_000],
    ])('retriesSpent %p is capped at maxDelayMs (%p ms)', (retries, expected) => {
      expect(strategy.delayMs(retries)).toBe(expected);
    });

    it.each([
      [-1, 1000],
      [-100, 1000],
      [Number.NEGATIVE_INFINITY, 1000],
    ])('negative retriesSpent %p is treated as 0 (%p ms)', (retries, expected) => {
      expect(strategy.delayMs(retries)).toBe(expected);
    });

    it.each([
      [0.5, 1000],
      [1.9, 2000],
      [2.999, 4000],
      [-0.5, 1000],
    ])('fractional retriesSpent %p is floored (%p ms)', (retries, expected) => {
      expect(strategy.delayMs(retries)).toBe(expected);
    });

    it('never returns a non-finite or non-integer delay', () => {
      for (let n = 0; n <= 60; n++) {
        const d = strategy.delayMs(n);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(1000);
        expect(d).toBeLessThanOrEqual(3_600_000);
      }
    });
  });

  it.each([
    // base, max, retries, expected
    [250, 10_000, 0, 250],
    [250, 10_000, 3, 2000],
    [250, 10_000, 5, 8000],
    [250, 10_000, 6, 10_000], // 16_000 capped
    [1000, 1000, 0, 1000], // cap equal to base
    [1000, 1000, 5, 1000],
    [1000, 5000, 2, 4000],
    [1000, 5000, 3, 5000], // 8000 capped
    [1, 3_600_000, 20, 1_048_576],
  ])('base %p, max %p, retriesSpent %p waits %p ms', (base, max, retries, expected) => {
    expect(new BackoffRetryStrategy(base, max).delayMs(retries)).toBe(expected);
  });

  it('grows monotonically until the cap', () => {
    const strategy = new BackoffRetryStrategy(100, 50_000);
    const delays = Array.from({ length: 15 }, (_, i) => strategy.delayMs(i));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    expect(delays[delays.length - 1]).toBe(50_000);
  });
});

describe('BackoffRetryStrategy with a task policy', () => {
  /** Randomness that returns the given values in turn. */
  const randomOf = (...values: number[]) => ({ next: () => values.shift() ?? 0 });
  const strategy = new BackoffRetryStrategy(1000, 3_600_000);

  it.each([
    // type, delay, max, retriesSpent, expected
    ['exponential', 200, 10_000, 0, 200],
    ['exponential', 200, 10_000, 1, 400],
    ['exponential', 200, 10_000, 3, 1600],
    ['exponential', 200, 1000, 3, 1000],
    ['exponential', 1, 604_800_000, 60, 604_800_000],
    ['fixed', 300, 10_000, 0, 300],
    ['fixed', 300, 10_000, 7, 300],
    ['fixed', 300, 100, 0, 100],
  ] as const)('%s %p ms capped at %p: retriesSpent %p waits %p ms', (type, delayMs, maxDelayMs, retries, expected) => {
    expect(strategy.delayMs(retries, { type, delayMs, maxDelayMs, jitter: false })).toBe(expected);
  });

  it('ignores the configured defaults when the task has its own policy', () => {
    expect(new BackoffRetryStrategy(5000, 5000).delayMs(2, { type: 'exponential', delayMs: 10, maxDelayMs: 1_000_000, jitter: false })).toBe(40);
  });

  it('with jitter draws between half the delay and the whole of it, from the injected randomness', () => {
    const policy = { type: 'exponential' as const, delayMs: 1000, maxDelayMs: 3_600_000, jitter: true };
    const jittered = new BackoffRetryStrategy(1000, 3_600_000, randomOf(0, 0.5, 0.999999));
    expect(jittered.delayMs(1, policy)).toBe(1000);
    expect(jittered.delayMs(1, policy)).toBe(1500);
    expect(jittered.delayMs(1, policy)).toBe(2000);
  });

  it('jitter never goes past the cap and never below 1 ms', () => {
    const capped = { type: 'exponential' as const, delayMs: 1000, maxDelayMs: 1500, jitter: true };
    expect(new BackoffRetryStrategy(1000, 1500, randomOf(0.999999)).delayMs(5, capped)).toBe(1500);
    expect(new BackoffRetryStrategy(1000, 1500, randomOf(0)).delayMs(0, { type: 'fixed', delayMs: 1, maxDelayMs: 1, jitter: true })).toBe(1);
  });

  it('without jitter never touches the randomness', () => {
    const random = { next: jest.fn(() => 0.5) };
    new BackoffRetryStrategy(1000, 3_600_000, random).delayMs(1, { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: false });
    new BackoffRetryStrategy(1000, 3_600_000, random).delayMs(1);
    expect(random.next).not.toHaveBeenCalled();
  });
});
