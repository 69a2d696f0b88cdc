import { DELAY_AND_RUN_AT_MESSAGE, parseRunAt, RUN_AT_AHEAD_MESSAGE, RUN_AT_FORMAT_MESSAGE, runAtProblem } from './run-at';

describe('parseRunAt', () => {
  it.each([
    ['2030-01-31T12:00:00Z', Date.UTC(2030, 0, 31, 12)],
    ['2030-01-31T12:00Z', Date.UTC(2030, 0, 31, 12)],
    ['2030-01-31t12:00:00z', Date.UTC(2030, 0, 31, 12)],
    ['2030-01-31T13:00:00+01:00', Date.UTC(2030, 0, 31, 12)],
    ['2030-01-31T06:30:00-05:30', Date.UTC(2030, 0, 31, 12)],
    ['2030-01-31T12:00:00.25Z', Date.UTC(2030, 0, 31, 12, 0, 0, 250)],
    ['2030-01-31T12:00:00,999999999Z', Date.UTC(2030, 0, 31, 12, 0, 0, 999)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['0050-06-01T00:00:00Z', new Date('0050-06-01T00:00:00.000Z').getTime()],
    ['2030-01-01T00:00:00+23:59', Date.UTC(2030, 0, 1) - (23 * 60 + 59) * 60_000],
  ])('%s is %p', (text, ms) => {
    expect(parseRunAt(text)).toBe(ms);
  });

  it.each([
    '2030-01-31', '2030-01-31T12:00:00', '2030-01-31T12Z', '2030-01-31 12:00:00Z', '2030-1-31T12:00:00Z', '30-01-31T12:00:00Z',
    '2030-02-29T00:00:00Z', '2030-02-30T00:00:00Z', '2030-04-31T00:00:00Z', '2030-00-10T00:00:00Z', '2030-13-10T00:00:00Z', '2030-01-00T00:00:00Z',
    '2030-01-31T24:00:00Z', '2030-01-31T12:60:00Z', '2030-01-31T12:00:60Z', '2030-01-31T12:00:00+24:00', '2030-01-31T12:00:00+01:60',
    '2030-01-31T12:00:00+0100', '2030-01-31T12:00:00+01', '2030-01-31T12:00:00.Z', '2030-01-31T12:00:00.1234567890Z', ' 2030-01-31T12:00:00Z', '1800000000000', '',
  ])('%p is not a run_at', (text) => {
    expect(parseRunAt(text)).toBeUndefined();
  });
});

describe('runAtProblem', () => {
  const now = Date.UTC(2030, 0, 1);
  const day = 86_400_000;

  it('accepts the past and up to 365 days ahead', () => {
    expect(runAtProblem('2001-01-01T00:00:00Z', undefined, now)).toBeUndefined();
    expect(runAtProblem(new Date(now + 365 * day).toISOString(), undefined, now)).toBeUndefined();
  });

  it('rejects more than 365 days ahead, a malformed time, and delay_ms given too', () => {
    expect(runAtProblem(new Date(now + 365 * day + 1).toISOString(), undefined, now)).toBe(RUN_AT_AHEAD_MESSAGE);
    expect(runAtProblem('soon', undefined, now)).toBe(RUN_AT_FORMAT_MESSAGE);
    expect(runAtProblem('2001-01-01T00:00:00Z', 0, now)).toBe(DELAY_AND_RUN_AT_MESSAGE);
  });
});
