import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { performance } from 'node:perf_hooks';
import { BackgroundLoop } from '../common/background-loop';
import { settlesWithin } from '../common/deadline';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { ProcessState } from '../lifecycle/process-state';
import { NO_TASK_METRICS, TaskMetrics } from '../metrics/task-metrics';
import { QueueUnavailableError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { ScheduleRecord } from '../queue/schedule.model';
import { ScheduleAdvance, ScheduleRepository } from '../queue/schedule.repository';
import { DEFAULT_QUEUE, newTaskId } from '../queue/task-id';
import { CronSchedule } from './cron-schedule';

/** Longest the scheduler sleeps between two looks at the due schedules (a schedule created elsewhere is seen within it). */
export const SCHEDULER_POLL_MS = 1000;
/** Due schedules taken per look; more wait for the next look, at once. */
export const SCHEDULER_BATCH = 100;
/**
 * How long the idempotency key of a tick lives. It only has to outlive the time between a process
 * reading a tick as due and its enqueue reaching Redis, which STALE_READ_MS bounds; kept short so that
 * a per-second schedule keeps an hour of keys, not IDEMPOTENCY_TTL_S worth.
 */
export const TICK_KEY_TTL_MS = 3_600_000;
/** A process that took longer than this from reading a tick to enqueueing it (paused, starved) reads again. */
export const STALE_READ_MS = 60_000;

/**
 * The idempotency key of one tick. Its first character (DEL, 0x7f) is outside what a client's
 * Idempotency-Key may hold (IDEMPOTENCY_KEY_PATTERN), so no request can take a tick's key.
 */
export function tickKey(scheduleId: string, tick: number): string {
  return `\x7fschedule:${scheduleId}:${tick}`;
}

/** Which tick a due schedule fires now and where it goes next (the catch-up policy, README "Schedules"). */
export function plan(schedule: ScheduleRecord, now: number, graceMs: number): { tick: number; next: number | undefined } {
  const cron = new CronSchedule(schedule.cron, schedule.timezone, schedule.id);
  // Late by at most the grace: this tick fires, and the next one too if it is due already.
  if (now - schedule.nextRunAt <= graceMs) return { tick: schedule.nextRunAt, next: cron.nextAfter(schedule.nextRunAt) };
  // Further behind (the fleet was down): one task for the latest tick missed, then the first tick ahead.
  return { tick: cron.latestAtOrBefore(now) ?? schedule.nextRunAt, next: cron.nextAfter(now) };
}

/**
 * Fires the periodic schedules; runs in every process (API and worker) unless SCHEDULER_ENABLED=false,
 * with no leader: each due tick is enqueued with an idempotency key made of (schedule, tick), which
 * enqueue.lua checks atomically in the task's queue, so processes racing on one tick create one task;
 * then the schedule moves on by compare-and-set (schedule-advance.lua), so exactly one of them moves
 * it. A process dying between the two leaves the tick due, and the next process to look replays it:
 * no tick is lost or doubled. Decides by Redis' clock; sleeps until the earliest next run, at most
 * SCHEDULER_POLL_MS.
 */
@Injectable()
export class SchedulerService implements OnModuleInit, BeforeApplicationShutdown {
  readonly loop: BackgroundLoop;
  private readonly stop = new AbortController();

  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly queue: QueueRepository,
    private readonly state: ProcessState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('Scheduler') private readonly logger: PinoLogger,
    @Optional() private readonly metrics: TaskMetrics = NO_TASK_METRICS,
  ) {
    this.loop = new BackgroundLoop('scheduler', SCHEDULER_POLL_MS, () => this.tick(), logger, (err) => err instanceof QueueUnavailableError);
  }

  onModuleInit(): void {
    // As the workers: nothing is created by a process that has not finished booting.
    this.state.onBooted(() => {
      void this.queue.whenConnected(this.stop.signal).then(() => {
        if (!this.stop.signal.aborted) this.loop.start();
      });
    });
  }

  /** A turn in progress ends within the Redis command timeout; bounded anyway. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await settlesWithin(this.loop.stop(), this.config.redis.commandTimeoutMs * 3);
  }

  /** One look: fires what is due; resolves to how long to sleep before the next look. */
  async tick(): Promise<number> {
    const { now, nextAt, due } = await this.schedules.due(SCHEDULER_BATCH);
    const readAt = performance.now();
    if (due.length === 0) return Math.min(SCHEDULER_POLL_MS, nextAt === undefined ? SCHEDULER_POLL_MS : nextAt - now + 1);
    const fired = await Promise.all(due.map((s) => this.fire(s, now, readAt)));
    const advances = fired.filter((a): a is ScheduleAdvance => a !== undefined);
    await this.schedules.advance(advances);
    // Look again at once: a schedule moved on may be due already (late ticks), more may wait than a batch.
    return advances.length === due.length ? 0 : SCHEDULER_POLL_MS;
  }

  /** Enqueues the tick's task (a replay when another process did) and says how to move the schedule on. */
  private async fire(schedule: ScheduleRecord, now: number, readAt: number): Promise<ScheduleAdvance | undefined> {
    const { tick, next } = plan(schedule, now, this.config.schedules.misfireGraceMs);
    const log = { schedule_id: schedule.id, scheduled_for: new Date(tick).toISOString() };
    try {
      if (performance.now() - readAt > STALE_READ_MS) return undefined;
      const queue = schedule.task.queue ?? DEFAULT_QUEUE;
      const task = {
        ...schedule.task,
        id: newTaskId(queue),
        queue,
        idempotencyKey: tickKey(schedule.id, tick),
        requestHash: schedule.id,
        scheduleId: schedule.id,
        scheduledFor: tick,
      };
      const { outcomes } = await this.queue.submit([task], TICK_KEY_TTL_MS);
      const outcome = outcomes[0]?.kind;
      if (outcome === 'created') {
        this.metrics.created(task.type, 1, task.queue);
        this.logger.info({ ...log, task_id: task.id, type: task.type }, 'schedule fired');
      } else if (outcome === 'conflict') {
        this.logger.warn(log, 'the idempotency key of this tick holds another request; tick skipped');
      }
    } catch (err) {
      if (!(err instanceof QueueUnavailableError)) this.logger.error({ ...log, err: err instanceof Error ? err.message : String(err) }, 'schedule could not fire; retrying');
      return undefined;
    }
    // No tick left (cron-parser found none within its search range): it stays due, and each look replays its last tick.
    if (next === undefined) return undefined;
    return { id: schedule.id, expected: schedule.nextRunAt, next, fired: tick };
  }
}
