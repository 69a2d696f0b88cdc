import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { SettleResult } from '../queue/queue.repository';
import { RETRY_STRATEGY, RetryStrategy } from '../queue/retry/retry-strategy';
import { LeasedTask } from '../queue/task.model';
import { HandlerRegistry } from '../task-types/handler-registry';
import { NonRetryableError, TaskAbortedError } from '../task-types/task-handler';

/** Why a running task's signal was aborted. */
export type AbortReason = 'deleted' | 'lease-lost' | 'shutdown';

/** What an attempt came to; everything but 'discard' is written to Redis, fenced by the lease token. */
export type TaskOutcome =
  | { kind: 'complete'; result: string }
  | { kind: 'retry'; error: string; backoffMs: number }
  | { kind: 'fail'; error: string }
  | { kind: 'requeue' }
  | { kind: 'discard'; reason: AbortReason };

/** Runs one leased task through its handler and decides the outcome; logs the task's life. */
@Injectable()
export class TaskExecutor {
  constructor(
    private readonly handlers: HandlerRegistry,
    @Inject(RETRY_STRATEGY) private readonly retryStrategy: RetryStrategy,
    @InjectPinoLogger('Worker') private readonly logger: PinoLogger,
  ) {}

  async run(task: LeasedTask, workerId: string, signal: AbortSignal): Promise<TaskOutcome> {
    this.logger.info(this.fields(task, workerId, { retries: task.retries }), 'processing task');
    let result: string | undefined;
    let failure: unknown;
    try {
      result = await this.runHandler(task, signal);
    } catch (err) {
      failure = err;
    }
    const reason = signal.aborted ? (signal.reason as AbortReason) : undefined;
    if (reason === 'deleted' || reason === 'lease-lost') return { kind: 'discard', reason };
    if (result !== undefined) return { kind: 'complete', result };
    if (reason === 'shutdown') return { kind: 'requeue' };
    const error = errorMessage(failure);
    if (!(failure instanceof NonRetryableError) && task.retries < task.maxRetry) {
      return { kind: 'retry', error, backoffMs: this.retryStrategy.delayMs(task.retries) };
    }
    return { kind: 'fail', error };
  }

  /** Logs how the attempt ended, once its outcome was written (or why it was not). */
  report(task: LeasedTask, workerId: string, outcome: TaskOutcome, written: SettleResult | 'unwritten', durationMs: number): void {
    const fields = this.fields(task, workerId, { duration_ms: durationMs });
    if (outcome.kind === 'discard') {
      this.logger.warn({ ...fields, reason: outcome.reason }, 'task outcome discarded');
    } else if (written === 'lease-lost' || written === 'not-found') {
      this.logger.warn({ ...fields, reason: written }, 'task outcome rejected: lease no longer held');
    } else if (written === 'unwritten') {
      this.logger.error(fields, 'could not record task outcome; the lease will expire and the task will run again');
    } else if (outcome.kind === 'complete') {
      this.logger.info(fields, 'task completed');
    } else if (outcome.kind === 'retry') {
      this.logger.warn(
        { ...fields, error: outcome.error, backoff_ms: outcome.backoffMs, retry: task.retries + 1, max_retry: task.maxRetry },
        'task failed, retrying',
      );
    } else if (outcome.kind === 'fail') {
      this.logger.error({ ...fields, error: outcome.error, retries: task.retries }, 'task failed permanently');
    } else {
      this.logger.warn(fields, 'task returned to the queue (no retry spent)');
    }
  }

  private fields(task: LeasedTask, workerId: string, extra: Record<string, unknown>): Record<string, unknown> {
    return { task_id: task.id, worker_id: workerId, type: task.type, attempt: task.token, ...extra };
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
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
