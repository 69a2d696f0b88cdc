import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { Clock, CLOCK } from '../common/clock';
import { sleep } from '../common/sleep';
import { LeaseLostError, QueueUnavailableError, TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { RETRY_STRATEGY, RetryStrategy } from '../queue/retry/retry-strategy';
import { LeasedTask } from '../queue/task.model';
import { HandlerRegistry } from './handlers/handler-registry';
import { NonRetryableError, TaskAbortedError } from './handlers/task-handler';

/** Why a running task's signal was aborted. */
export type AbortReason = 'deleted' | 'lease-lost' | 'shutdown';

const OUTCOME_RETRY_INTERVAL_MS = 250;

/**
 * Runs one leased task through its handler and records the outcome, fenced by the lease token.
 * An outcome that cannot be written because Redis is briefly away is retried for up to one lease
 * period; if it still cannot be written, the lease expires and the recoverer runs the task again
 * (at least once, never lost).
 */
@Injectable()
export class TaskExecutor {
  constructor(
    private readonly queue: QueueRepository,
    private readonly handlers: HandlerRegistry,
    @Inject(RETRY_STRATEGY) private readonly retryStrategy: RetryStrategy,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('Worker') private readonly logger: PinoLogger,
  ) {}

  async execute(task: LeasedTask, workerId: string, signal: AbortSignal): Promise<void> {
    const fields = { task_id: task.id, worker_id: workerId, type: task.type, attempt: task.token };
    this.logger.info({ ...fields, retries: task.retries }, 'processing task');
    const started = this.clock.now();
    let result: string | undefined;
    let failure: unknown;
    try {
      result = await this.runHandler(task, signal);
    } catch (err) {
      failure = err;
    }
    const duration_ms = this.clock.now() - started;
    const reason = signal.aborted ? (signal.reason as AbortReason) : undefined;

    if (reason === 'deleted' || reason === 'lease-lost') {
      this.logger.warn({ ...fields, reason, duration_ms }, 'task outcome discarded');
      return;
    }
    if (result !== undefined) {
      await this.record(fields, () => this.queue.complete(task, result, this.clock.now()));
      this.logger.info({ ...fields, duration_ms }, 'task completed');
      return;
    }
    if (reason === 'shutdown') {
      await this.record(fields, () => this.queue.requeue(task, this.clock.now()));
      this.logger.warn({ ...fields, duration_ms }, 'task returned to the queue on shutdown (no retry spent)');
      return;
    }
    const error = errorMessage(failure);
    const retryable = !(failure instanceof NonRetryableError) && task.retries < task.maxRetry;
    if (retryable) {
      const backoff_ms = this.retryStrategy.delayMs(task.retries);
      const now = this.clock.now();
      await this.record(fields, () => this.queue.retry(task, error, now, now + backoff_ms));
      this.logger.warn(
        { ...fields, error, backoff_ms, retry: task.retries + 1, max_retry: task.maxRetry, duration_ms },
        'task failed, retrying',
      );
    } else {
      await this.record(fields, () => this.queue.fail(task, error, this.clock.now()));
      this.logger.error({ ...fields, error, retries: task.retries, duration_ms }, 'task failed permanently');
    }
  }

  private async runHandler(task: LeasedTask, signal: AbortSignal): Promise<string> {
    const handler = this.handlers.get(task.type);
    if (!handler) {
      throw new NonRetryableError(`unknown task type "${task.type}"; known types: ${this.handlers.types().join(', ')}`);
    }
    handler.validatePayload?.(task.payload);
    const running = handler.handle(task.payload, { taskId: task.id, attempt: task.token, signal });
    // A handler that ignores its signal must not hold the slot: stop waiting for it when aborted.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new TaskAbortedError());
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      running.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
    const result = await Promise.race([running, aborted]);
    return typeof result === 'string' ? result : JSON.stringify(result);
  }

  /** Writes an outcome; a lost lease means another attempt owns the task now, so ours is dropped. */
  private async record(fields: Record<string, unknown>, write: () => Promise<void>): Promise<void> {
    const giveUpAt = this.clock.now() + this.config.worker.leaseMs;
    for (;;) {
      try {
        await write();
        return;
      } catch (err) {
        if (err instanceof LeaseLostError || err instanceof TaskNotFoundError) {
          this.logger.warn({ ...fields, reason: err.name }, 'task outcome rejected: lease no longer held');
          return;
        }
        if (!(err instanceof QueueUnavailableError) || this.clock.now() >= giveUpAt) {
          this.logger.error(
            { ...fields, err: errorMessage(err) },
            'could not record task outcome; the lease will expire and the task will run again',
          );
          return;
        }
        await sleep(OUTCOME_RETRY_INTERVAL_MS);
      }
    }
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
