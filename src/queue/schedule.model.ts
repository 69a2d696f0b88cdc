import type { NewTask } from './task.model';

/**
 * What every task of a schedule is made from: a task as submitted, its defaults resolved when the
 * schedule was created; each tick adds its own id, idempotency key and schedule fields.
 */
export type TaskTemplate = Omit<NewTask, 'id' | 'delayMs' | 'runAt' | 'idempotencyKey' | 'requestHash' | 'scheduleId' | 'scheduledFor'>;

/** A periodic schedule as stored, times in epoch milliseconds. */
export interface ScheduleRecord {
  id: string;
  /** '' when none was given. */
  name: string;
  /** 5 fields, or 6 with seconds first (cron-parser syntax). */
  cron: string;
  /** IANA time zone the cron expression is read in. */
  timezone: string;
  task: TaskTemplate;
  /** The next tick (by Redis' clock) a process fires; kept while paused, and set anew on resume. */
  nextRunAt: number;
  /** The tick of the last task it created (its scheduled_for). */
  lastRunAt?: number;
  paused: boolean;
  createdAt: number;
}

/** A schedule to store: its next run is computed by the caller (the cron expression is not read in Redis). */
export type NewSchedule = Omit<ScheduleRecord, 'lastRunAt' | 'paused' | 'createdAt'>;

export function parseScheduleHash(id: string, h: Record<string, string>): ScheduleRecord | undefined {
  if (!h.cron || !h.next_run || !h.task) return undefined;
  return {
    id,
    name: h.name ?? '',
    cron: h.cron,
    timezone: h.tz ?? 'UTC',
    task: JSON.parse(h.task) as TaskTemplate,
    nextRunAt: Number(h.next_run),
    lastRunAt: h.last_run ? Number(h.last_run) : undefined,
    paused: h.paused === '1',
    createdAt: Number(h.created_at),
  };
}
