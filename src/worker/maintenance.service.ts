import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { NO_TASK_METRICS, TaskMetrics } from '../metrics/task-metrics';
import { BackgroundLoop } from '../common/background-loop';
import { QueueUnavailableError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { RETRY_STRATEGY, RetryStrategy } from '../queue/retry/retry-strategy';
import { MAX_RETRY_LIMIT, MAX_STALLS } from '../queue/task-limits';

export const LEASE_EXPIRED_ERROR = 'lease expired: worker lost';
export const RECOVER_BATCH = 100;
export const PURGE_BATCH = 500;
/** Batches per tick at most, so one tick never monopolises Redis after a long outage. */
export const MAX_BATCHES_PER_TICK = 20;
/** How long the loops use a registry read before reading it again. */
export const QUEUE_NAMES_MAX_AGE_MS = 5000;
/** Longest the recoverer sleeps (when it also stays under half a lease, see recoverIdleMs). */
export const RECOVER_IDLE_MAX_MS = 5000;
/** Added to a lease's remaining time, so the recoverer wakes just after the deadline, not just before. */
export const RECOVER_SLACK_MS = 5;

/**
 * Two loops every worker process runs over every registered queue; each tick is one script call per queue, safe to run concurrently in
 * many processes (every transition is fenced), so no leader election is needed:
 * - recoverer: attempts whose lease expired become failed attempts (retry with backoff, or failed),
 *   or, when their handler never started, go back to pending without spending a retry;
 * - retention: finished tasks older than TASK_RETENTION_S are removed with their index entries.
 * Both decide by Redis' clock (inside the scripts), so this process's clock plays no part.
 */
@Injectable()
export class MaintenanceService implements OnModuleInit, BeforeApplicationShutdown {
  readonly recoverer: BackgroundLoop;
  readonly retention: BackgroundLoop;
  private readonly delays: number[];
  private readonly recoverRetryMs: number;
  private readonly recoverIdleMs: number;
  private names?: { list: string[]; readAt: number };

  constructor(
    private readonly queue: QueueRepository,
    @Inject(RETRY_STRATEGY) retryStrategy: RetryStrategy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('Maintenance') private readonly logger: PinoLogger,
    @Optional() private readonly metrics: TaskMetrics = NO_TASK_METRICS,
  ) {
    this.delays = Array.from({ length: MAX_RETRY_LIMIT + 1 }, (_, n) => retryStrategy.delayMs(n));
    // The recoverer sleeps until the earliest lease held in any queue expires (each recover call says
    // when), at most recoverIdleMs. That is under half a lease, so a lease taken just after a check is
    // checked again before it can expire: a lost worker's task is recovered at its deadline (+ slack),
    // and an idle queue costs one call per recoverIdleMs instead of one per second. After a failed
    // tick, or while a backlog of expired leases remains, it runs every retryMs as before.
    this.recoverRetryMs = Math.min(1000, Math.floor(config.worker.leaseMs / 2));
    this.recoverIdleMs = Math.min(RECOVER_IDLE_MAX_MS, Math.floor(config.worker.leaseMs / 2));
    const isOutage = (err: unknown) => err instanceof QueueUnavailableError;
    this.recoverer = new BackgroundLoop('lease recoverer', this.recoverRetryMs, () => this.recoverExpiredLeases(), logger, isOutage);
    this.retention = new BackgroundLoop('retention', 5000, () => this.purgeExpiredTasks(), logger, isOutage);
  }

  onModuleInit(): void {
    this.recoverer.start();
    this.retention.start();
  }

  /** Stopped before Redis connections close (a tick in progress ends within the command timeout). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.recoverer.stop(), this.retention.stop()]);
  }

  /**
   * Every registered queue (QueueRepository.queueNames), read at most every QUEUE_NAMES_MAX_AGE_MS, so the
   * loops cover a new queue soon after its first task without a registry read per tick.
   */
  private async queueNames(): Promise<string[]> {
    const now = Date.now();
    if (!this.names || now - this.names.readAt >= QUEUE_NAMES_MAX_AGE_MS) this.names = { list: await this.queue.queueNames(), readAt: now };
    return this.names.list;
  }

  /**
   * Recovers expired leases in every queue, one queue after the other (a failure in one does not skip
   * the rest); resolves to the delay before the next tick.
   */
  async recoverExpiredLeases(): Promise<number> {
    let delayMs = this.recoverIdleMs;
    await this.eachQueue(async (queue) => {
      const next = await this.recoverQueue(queue);
      if (next === undefined) return;
      delayMs = Math.min(delayMs, next > 0 ? next + RECOVER_SLACK_MS : this.recoverRetryMs);
    });
    return delayMs;
  }

  async purgeExpiredTasks(): Promise<void> {
    await this.eachQueue((queue) => this.purgeQueue(queue));
  }

  private async eachQueue(work: (queue: string) => Promise<void>): Promise<void> {
    let failure: unknown;
    for (const queue of await this.queueNames()) {
      try {
        await work(queue);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Resolves to ms until the queue's next lease expires (<= 0: expired ones are left), undefined when it holds none. */
  private async recoverQueue(queue: string): Promise<number | undefined> {
    let next: number | undefined;
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch += 1) {
      const recovery = await this.queue.recoverDue(RECOVER_BATCH, LEASE_EXPIRED_ERROR, this.delays, MAX_STALLS, queue);
      const outcomes = recovery.outcomes;
      next = recovery.nextDeadlineInMs;
      for (const o of outcomes) {
        if (o.outcome === 'dropped') continue;
        this.metrics.recovered(o.outcome, queue);
        if (o.outcome === 'stalled') {
          this.logger.warn({ task_id: o.id, queue, outcome: o.outcome, retries: o.retries }, 'lease expired before the task started; task requeued');
          continue;
        }
        this.logger.warn(
          { task_id: o.id, queue, outcome: o.outcome, retries: o.retries, error: LEASE_EXPIRED_ERROR },
          o.outcome === 'retry' ? 'lease expired; task will be retried' : 'lease expired; task failed permanently',
        );
      }
      if (outcomes.length < RECOVER_BATCH) return next;
    }
    return next;
  }

  private async purgeQueue(queue: string): Promise<void> {
    const retentionMs = this.config.queue.retentionS * 1000;
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch += 1) {
      const removed = await this.queue.purgeExpired(retentionMs, PURGE_BATCH, queue);
      if (removed > 0) this.logger.debug({ removed, queue }, 'removed finished tasks past retention');
      if (removed < PURGE_BATCH) return;
    }
  }
}
