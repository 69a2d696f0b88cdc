import { CronSchedule, cronProblem, timezoneProblem } from './cron-schedule';

const ms = (iso: string): number => Date.parse(iso);
const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

/** The first `n` ticks after `from`, as ISO strings. */
function ticks(cron: string, timezone: string, from: string, n: number): string[] {
  const schedule = new CronSchedule(cron, timezone, 'seed');
  const out: string[] = [];
  let at = ms(from);
  for (let i = 0; i < n; i += 1) {
    at = schedule.nextAfter(at) as number;
    out.push(iso(at) as string);
  }
  return out;
}

/** Ticks in [from, to). */
function countTicks(cron: string, timezone: string, from: string, to: string): number {
  const schedule = new CronSchedule(cron, timezone, 'seed');
  let n = 0;
  for (let t = schedule.nextAfter(ms(from) - 1) as number; t < ms(to); t = schedule.nextAfter(t) as number) n += 1;
  return n;
}

describe('CronSchedule', () => {
  it('takes 5 fields (minute first) and 6 (seconds first)', () => {
    expect(ticks('*/15 * * * *', 'UTC', '2026-01-01T10:07:00Z', 3)).toEqual(['2026-01-01T10:15:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T10:45:00.000Z']);
    expect(ticks('*/20 * * * * *', 'UTC', '2026-01-01T10:00:00Z', 3)).toEqual(['2026-01-01T10:00:20.000Z', '2026-01-01T10:00:40.000Z', '2026-01-01T10:01:00.000Z']);
    expect(ticks('* * * * * *', 'UTC', '2026-01-01T10:00:00.400Z', 2)).toEqual(['2026-01-01T10:00:01.000Z', '2026-01-01T10:00:02.000Z']);
  });

  it('nextAfter is strictly after; latestAtOrBefore includes the instant itself', () => {
    const s = new CronSchedule('* * * * * *', 'UTC', 'seed');
    expect(iso(s.nextAfter(ms('2026-01-01T10:00:00.000Z')))).toBe('2026-01-01T10:00:01.000Z');
    expect(iso(s.latestAtOrBefore(ms('2026-01-01T10:00:00.000Z')))).toBe('2026-01-01T10:00:00.000Z');
    expect(iso(s.latestAtOrBefore(ms('2026-01-01T10:00:00.999Z')))).toBe('2026-01-01T10:00:00.000Z');
    expect(iso(new CronSchedule('0 3 * * *', 'UTC', 'seed').latestAtOrBefore(ms('2026-01-05T02:59:59Z')))).toBe('2026-01-04T03:00:00.000Z');
  });

  it('reads the expression in its time zone', () => {
    expect(ticks('0 9 * * *', 'Europe/Berlin', '2026-01-10T00:00:00Z', 1)).toEqual(['2026-01-10T08:00:00.000Z']);
    expect(ticks('0 9 * * *', 'Europe/Berlin', '2026-07-10T00:00:00Z', 1)).toEqual(['2026-07-10T07:00:00.000Z']);
    expect(ticks('0 9 * * *', 'America/New_York', '2026-01-10T00:00:00Z', 1)).toEqual(['2026-01-10T14:00:00.000Z']);
  });

  describe('Europe/Berlin spring forward (2026-03-29: 02:00 CET becomes 03:00 CEST)', () => {
    it('a daily time in the skipped hour fires at the first instant after the gap, once', () => {
      expect(ticks('30 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', 3)).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:30:00.000Z', // 02:30 does not exist: 03:30 CEST
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('an hourly schedule fires every real hour: 23 on that day', () => {
      expect(ticks('0 * * * *', 'Europe/Berlin', '2026-03-28T23:30:00Z', 3)).toEqual([
        '2026-03-29T00:00:00.000Z', // 01:00 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST
        '2026-03-29T02:00:00.000Z', // 04:00 CEST
      ]);
      // Berlin's 2026-03-29 runs from 23:00 UTC the day before to 22:00 UTC.
      expect(countTicks('0 * * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z')).toBe(23);
    });

    it('a per-second schedule runs straight through the change', () => {
      expect(ticks('* * * * * *', 'Europe/Berlin', '2026-03-29T00:59:58Z', 4)).toEqual([
        '2026-03-29T00:59:59.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-29T01:00:01.000Z',
        '2026-03-29T01:00:02.000Z',
      ]);
    });
  });

  describe('Europe/Berlin fall back (2026-10-25: 03:00 CEST becomes 02:00 CET)', () => {
    it('a daily time in the repeated hour fires once, in its first occurrence', () => {
      expect(ticks('30 2 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z', 3)).toEqual([
        '2026-10-24T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST, not again at 02:30 CET
        '2026-10-26T01:30:00.000Z', // 02:30 CET
      ]);
    });

    it('an hourly schedule fires every real hour: 25 on that day', () => {
      expect(ticks('0 * * * *', 'Europe/Berlin', '2026-10-24T23:30:00Z', 3)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T02:00:00.000Z', // 03:00 CET
      ]);
      // Berlin's 2026-10-25 runs from 22:00 UTC the day before to 23:00 UTC.
      expect(countTicks('0 * * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z')).toBe(25);
    });

    it('latestAtOrBefore walks back over the repeated hour too', () => {
      const s = new CronSchedule('0 * * * *', 'Europe/Berlin', 'seed');
      expect(iso(s.latestAtOrBefore(ms('2026-10-25T01:30:00Z')))).toBe('2026-10-25T01:00:00.000Z');
      expect(iso(s.latestAtOrBefore(ms('2026-10-25T00:59:00Z')))).toBe('2026-10-25T00:00:00.000Z');
    });
  });

  it('H picks the same value for the same seed (every process computes the same ticks)', () => {
    const a = new CronSchedule('H * * * *', 'UTC', 'schedule-1').nextAfter(ms('2026-01-01T00:00:00Z'));
    expect(new CronSchedule('H * * * *', 'UTC', 'schedule-1').nextAfter(ms('2026-01-01T00:00:00Z'))).toBe(a);
  });
});

describe('cronProblem', () => {
  it.each([['* * * * *'], ['*/5 * * * *'], ['0 */2 * * * *'], ['0 9 * * MON-FRI'], ['@daily'], ['@hourly'], [' 0 0 * * * ']])('accepts %p', (cron) => {
    expect(cronProblem(cron)).toBeUndefined();
  });

  it.each([
    ['', 'cron must be 1 to 256 characters'],
    ['* * * *', 'cron must have 5 fields'],
    ['*', 'cron must have 5 fields'],
    ['* * * * * * *', 'cron must have 5 fields'],
    ['61 * * * *', 'cron is not valid: Constraint error, got value 61 expected range 0-59'],
    ['* * 31 2 *', 'cron is not valid: Invalid explicit day of month definition'],
    ['*/0 * * * *', 'cron is not valid'],
    ['@often', 'cron is not valid'],
    ['x'.repeat(300), 'cron must be 1 to 256 characters'],
  ])('rejects %p naming the field', (cron, message) => {
    expect(cronProblem(cron)).toContain(message);
  });

  it.each([[5], [null], [['* * * * *']]])('rejects the non-string %p', (cron) => {
    expect(cronProblem(cron)).toBe('cron must be a string');
  });
});

describe('timezoneProblem', () => {
  it.each([['UTC'], ['Europe/Berlin'], ['America/Argentina/Buenos_Aires'], ['Etc/GMT+5'], ['Asia/Kolkata']])('accepts %p', (tz) => {
    expect(timezoneProblem(tz)).toBeUndefined();
  });

  it.each([
    ['Mars/Olympus', 'timezone "Mars/Olympus" is not a known IANA time zone name'],
    ['Europe/Berlinn', 'timezone "Europe/Berlinn" is not a known IANA time zone name'],
    ['+01:00', 'timezone must be an IANA time zone name'],
    ['', 'timezone must be an IANA time zone name'],
    ['Europe/Berlin; DROP', 'timezone must be an IANA time zone name'],
  ])('rejects %p naming the field', (tz, message) => {
    expect(timezoneProblem(tz)).toContain(message);
  });

  it('rejects a non-string', () => {
    expect(timezoneProblem(1)).toBe('timezone must be a string');
  });
});
