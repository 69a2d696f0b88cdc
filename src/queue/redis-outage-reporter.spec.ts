import { OutageLog, RedisOutageReporter } from './redis-outage-reporter';

describe('RedisOutageReporter', () => {
  let now: number;
  let lines: string[];
  let reporter: RedisOutageReporter;
  const log: OutageLog = {
    unavailable: (error, suppressed) => lines.push(`unavailable: ${error} (${suppressed} suppressed)`),
    answersAgain: () => lines.push('answers again'),
  };

  beforeEach(() => {
    now = 1_000_000;
    lines = [];
    reporter = new RedisOutageReporter(log, () => now, 5000, 30_000);
  });

  it('logs nothing while every command succeeds', () => {
    for (let i = 0; i < 100; i += 1) {
      reporter.success();
      now += 100;
    }
    expect(lines).toEqual([]);
    expect(reporter.failing).toBe(false);
  });

  it('logs the first failure at once, with its error', () => {
    reporter.failure(new Error('Command timed out'));
    expect(lines).toEqual(['unavailable: Command timed out (0 suppressed)']);
    expect(reporter.failing).toBe(true);
  });

  it('a slow Redis (failures interleaved with successes) logs one line, not one per failure, and no recovery', () => {
    for (let i = 0; i < 50; i += 1) {
      reporter.failure(new Error('Command timed out'));
      now += 200;
      reporter.success();
      now += 200;
    }
    expect(lines).toEqual(['unavailable: Command timed out (0 suppressed)']);
    expect(reporter.failing).toBe(true);
  });

  it('ends the outage on the first success after the quiet interval without a failure, logging it once', () => {
    reporter.failure(new Error('down'));
    now += 1000;
    reporter.success();
    now += 3999; // 4999 ms after the failure
    reporter.success();
    expect(lines).toEqual(['unavailable: down (0 suppressed)']);
    now += 1;
    reporter.success();
    reporter.success();
    expect(lines).toEqual(['unavailable: down (0 suppressed)', 'answers again']);
    expect(reporter.failing).toBe(false);
  });

  it('a failure within the quiet interval restarts it', () => {
    reporter.failure(new Error('one'));
    now += 4000;
    reporter.failure(new Error('two'));
    now += 4000;
    reporter.success();
    expect(lines).toEqual(['unavailable: one (0 suppressed)']);
    now += 1000;
    reporter.success();
    expect(lines).toEqual(['unavailable: one (0 suppressed)', 'answers again']);
  });

  it('does not end an outage without a success, however long it lasts', () => {
    reporter.failure(new Error('down'));
    now += 600_000;
    expect(reporter.failing).toBe(true);
    expect(lines).toHaveLength(1);
  });

  it('repeats the unavailable line once per repeat interval while failures go on, counting the suppressed ones', () => {
    reporter.failure(new Error('a'));
    for (let i = 0; i < 10; i += 1) {
      now += 1000;
      reporter.failure(new Error('b'));
    }
    now += 20_000; // 30 s after the first line
    reporter.failure(new Error('c'));
    expect(lines).toEqual(['unavailable: a (0 suppressed)', 'unavailable: c (10 suppressed)']);
  });

  it('logs the next outage at once after one has ended', () => {
    reporter.failure(new Error('first'));
    now += 5000;
    reporter.success();
    now += 10;
    reporter.failure(new Error('second'));
    expect(lines).toEqual(['unavailable: first (0 suppressed)', 'answers again', 'unavailable: second (0 suppressed)']);
  });

  it('accepts non-Error failures', () => {
    reporter.failure('socket gone');
    expect(lines).toEqual(['unavailable: socket gone (0 suppressed)']);
  });
});
