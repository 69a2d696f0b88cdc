import { RateLimitedReporter } from './rate-limited-logger';

describe('RateLimitedReporter', () => {
  let now: number;
  let reporter: RateLimitedReporter;
  let emitted: number[];
  const report = (): void => reporter.report((suppressed) => emitted.push(suppressed));

  beforeEach(() => {
    now = 1_000_000;
    emitted = [];
    reporter = new RateLimitedReporter(30_000, () => now);
  });

  it('emits the first report at once, with nothing suppressed', () => {
    report();
    expect(emitted).toEqual([0]);
  });

  it('suppresses reports within the interval', () => {
    report();
    now += 1;
    report();
    now += 29_998;
    report();
    expect(emitted).toEqual([0]);
  });

  it('emits again once the interval has passed, with the count of suppressed reports', () => {
    report();
    for (let i = 0; i < 5; i++) {
      now += 1000;
      report();
    }
    now = 1_000_000 + 30_000;
    report();
    expect(emitted).toEqual([0, 5]);
  });

  it('emits exactly at the interval boundary, not one millisecond before', () => {
    report();
    now += 29_999;
    report();
    expect(emitted).toEqual([0]);
    now += 1;
    report();
    expect(emitted).toEqual([0, 1]);
  });

  it('measures the interval from the last emitted report, not the last suppressed one', () => {
    report(); // t = 0, emitted
    now += 20_000;
    report(); // t = 20s, suppressed
    now += 10_000;
    report(); // t = 30s, emitted
    expect(emitted).toEqual([0, 1]);
  });

  it('resets the suppressed count after each emission', () => {
    report();
    now += 1;
    report();
    now += 1;
    report();
    now += 30_000;
    report();
    now += 30_000;
    report();
    expect(emitted).toEqual([0, 2, 0]);
  });

  describe('reset', () => {
    it('returns false when nothing was reported', () => {
      expect(reporter.reset()).toBe(false);
    });

    it('returns true after a report, and false again on a second reset', () => {
      report();
      expect(reporter.reset()).toBe(true);
      expect(reporter.reset()).toBe(false);
    });

    it('lets the next report through at once, with a fresh count', () => {
      report();
      now += 1;
      report();
      reporter.reset();
      now += 1;
      report();
      expect(emitted).toEqual([0, 0]);
    });
  });

  it('emits every report when the interval is 0', () => {
    const every = new RateLimitedReporter(0, () => now);
    const seen: number[] = [];
    every.report((s) => seen.push(s));
    every.report((s) => seen.push(s));
    every.report((s) => seen.push(s));
    expect(seen).toEqual([0, 0, 0]);
  });

  it('uses Date.now by default', () => {
    jest.useFakeTimers({ now: 5_000_000 });
    try {
      const real = new RateLimitedReporter(1000);
      const seen: number[] = [];
      real.report((s) => seen.push(s));
      real.report((s) => seen.push(s));
      jest.setSystemTime(5_001_000);
      real.report((s) => seen.push(s));
      expect(seen).toEqual([0, 1]);
    } finally {
      jest.useRealTimers();
    }
  });
});
