import { ExponentialBackoffStrategy } from './exponential-backoff.strategy';

describe('ExponentialBackoffStrategy', () => {
  describe('with base 1000 ms and a one-hour cap', () => {
    const strategy = new ExponentialBackoffStrategy(1000, 3_600_000);

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
    expect(new ExponentialBackoffStrategy(base, max).delayMs(retries)).toBe(expected);
  });

  it('grows monotonically until the cap', () => {
    const strategy = new ExponentialBackoffStrategy(100, 50_000);
    const delays = Array.from({ length: 15 }, (_, i) => strategy.delayMs(i));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    expect(delays[delays.length - 1]).toBe(50_000);
  });
});
