import { IDEMPOTENCY_KEY_PATTERN } from '../queue/task-limits';
import { ScheduleRecord } from '../queue/schedule.model';
import { plan, tickKey } from './scheduler.service';

const ms = (iso: string): number => Date.parse(iso);

function schedule(cron: string, nextRunAt: string, timezone = 'UTC'): ScheduleRecord {
  return {
    id: '0b7c5d7e-0000-4000-8000-000000000001',
    name: '',
    cron,
    timezone,
    task: { type: 'echo', payload: '', maxRetry: 0 },
    nextRunAt: ms(nextRunAt),
    paused: false,
    createdAt: 0,
  };
}

const isoPlan = (p: { tick: number; next?: number }) => ({ tick: new Date(p.tick).toISOString(), next: p.next && new Date(p.next).toISOString() });

describe('plan (which tick a due schedule fires, and its next run)', () => {
  it('a tick on time fires itself; the next run is the following tick', () => {
    const s = schedule('*/5 * * * *', '2026-01-01T10:05:00Z');
    expect(isoPlan(plan(s, ms('2026-01-01T10:05:00.020Z'), 5000))).toEqual({ tick: '2026-01-01T10:05:00.000Z', next: '2026-01-01T10:10:00.000Z' });
  });

  it('ticks late by at most the grace each fire on their own, oldest first (the next run may be due already)', () => {
    const s = schedule('* * * * * *', '2026-01-01T10:00:00Z');
    expect(isoPlan(plan(s, ms('2026-01-01T10:00:04.500Z'), 5000))).toEqual({ tick: '2026-01-01T10:00:00.000Z', next: '2026-01-01T10:00:01.000Z' });
  });

  it('a schedule behind by more than the grace fires once, for the latest tick missed, then moves past now', () => {
    const s = schedule('* * * * * *', '2026-01-01T10:00:00Z');
    expect(isoPlan(plan(s, ms('2026-01-01T10:00:05.500Z'), 5000))).toEqual({ tick: '2026-01-01T10:00:05.000Z', next: '2026-01-01T10:00:06.000Z' });
    const daily = schedule('0 3 * * *', '2026-01-01T03:00:00Z');
    expect(isoPlan(plan(daily, ms('2026-01-04T12:00:00Z'), 5000))).toEqual({ tick: '2026-01-04T03:00:00.000Z', next: '2026-01-05T03:00:00.000Z' });
  });

  it('a grace of 0 catches up at once', () => {
    const s = schedule('* * * * * *', '2026-01-01T10:00:00Z');
    expect(isoPlan(plan(s, ms('2026-01-01T10:00:02.100Z'), 0))).toEqual({ tick: '2026-01-01T10:00:02.000Z', next: '2026-01-01T10:00:03.000Z' });
  });

  it('follows the time zone across DST (Europe/Berlin spring forward)', () => {
    const s = schedule('30 2 * * *', '2026-03-28T01:30:00Z', 'Europe/Berlin');
    expect(isoPlan(plan(s, ms('2026-03-28T01:30:00.010Z'), 5000))).toEqual({ tick: '2026-03-28T01:30:00.000Z', next: '2026-03-29T01:30:00.000Z' });
  });
});

describe('tickKey', () => {
  it('is one key per (schedule, tick) that no client Idempotency-Key can be', () => {
    expect(tickKey('s1', 1000)).not.toBe(tickKey('s1', 2000));
    expect(tickKey('s1', 1000)).not.toBe(tickKey('s2', 1000));
    expect(IDEMPOTENCY_KEY_PATTERN.test(tickKey('s1', 1000))).toBe(false);
  });
});
