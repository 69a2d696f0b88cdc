import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { NO_TASK_METRICS, TaskMetrics } from '../metrics/task-metrics';
import { Settlement, SettleResult } from '../queue/queue.repository';
import { RETRY_STRATEGY, RetryStrategy } from '../queue/retry/retry-strategy';
import { queueOfTaskId } from '../queue/task-id';
import { LeasedTask } from '../queue/task.model';
import { HandlerRegistry } from '../task-types/handler-registry';
import { decodeJsonValue, encodeResult } from '../queue/json-value';
import { InvalidPayloadError, NonRetryableError, RetryAfterError, TaskAbortedError } from '../task-types/task-handler';
import { checkPayload } from '../task-types/task-payload';

/** Why a running attempt's signal was aborted. */
export type AbortReason = 'deleted' | 'lease-lost' | 'shutdown' | 'timeout';

/** An outcome that is written to Redis: the settlement of the attempt, less its lease. */
export type WrittenOutcome = Omit<Settlement, 'lease'> & { mode: 'complete' | 'retry' | 'fail' | 'requeue' };

/**
 * What an attempt came to. Everything but 'discard' is written to Redis as it is (fenced by the
 * lease token); 'discard' means there is nothing to write: the task was deleted or the lease is
 * no longer ours.
 */
export type TaskOutcome = WrittenOutcome | { mode: 'discard'; reason: 'deleted' | 'lease-lost' };

/** Runs one leased task through its handler and decides the outcome; logs the task's life. */
@Injectable()
export class TaskExecutor {
  constructor(
    private readonly handlers: HandlerRegistry,
    @Inject(RETRY_STRATEGY) private readonly retryStrategy: RetryStrategy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('Worker') private readonly logger: PinoLogger,
    @Optional() private readonly metrics: TaskMetrics = NO_TASK_METRICS,
  ) {}

  /**
   * Never rejects. The attempt ends when the handler settles, when `signal` aborts (deleted, lease
   * lost, shutdown), or at the task's timeout_ms (TASK_TIMEOUT_MS when it has none), whichever comes
   * first: a handler that ignores its signal does not hold the slot, and whatever it returns later is
   * dropped (its lease token is stale by then).
   */
  async run(task: LeasedTask, workerId: string, signal: AbortSignal): Promise<TaskOutcome> {
    this.logger.info(this.fields(task, workerId, { retries: task.retries }), 'processing task');
    this.metrics.started(task);
    // The task's own timeout_ms, else TASK_TIMEOUT_MS.
    const timeoutMs = task.timeoutMs ?? this.config.worker.taskTimeoutMs;
    const attempt = new AbortController();
    const forward = () => attempt.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    const timer = setTimeout(() => attempt.abort('timeout' satisfies AbortReason), timeoutMs);
    let result: string | undefined;
    let failure: unknown;
    try {
      result = await this.runHandler(task, attempt.signal);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    }
    const reason = attempt.signal.aborted ? (attempt.signal.reason as AbortReason) : undefined;
    if (reason === 'timeout') this.metrics.timedOut(task.type, queueOfTaskId(task.id));
    if (reason === 'deleted' || reason === 'lease-lost') return { mode: 'discard', reason };
    if (result !== undefined) return this.completion(task, result);
    if (reason === 'shutdown') return { mode: 'requeue', text: '' };
    const error = reason === 'timeout' ? `timeout after ${timeoutMs} ms` : errorMessage(failure);
    const notBeforeMs = failure instanceof RetryAfterError ? failure.delayMs : undefined;
    return this.failure(task, error, failure instanceof NonRetryableError, notBeforeMs);
  }

  /** The type's @TaskHandler concurrency: at most this many of its tasks run at once in a process. */
  concurrencyOf(type: string): number | undefined {
    return this.handlers.definition(type)?.options.concurrency;
  }

  /** Logs how the attempt ended, once its outcome was written (or why it was not). */
  report(task: LeasedTask, workerId: string, outcome: TaskOutcome, written: SettleResult | 'unwritten', durationMs: number): void {
    if (written === 'applied' && outcome.mode !== 'discard' && outcome.mode !== 'requeue') {
      this.metrics.settled(task, outcome.mode, durationMs);
    }
    const fields = this.fields(task, workerId, { duration_ms: durationMs });
    if (outcome.mode === 'discard') {
      this.logger.warn({ ...fields, reason: outcome.reason }, 'task outcome discarded');
    } else if (written === 'lease-lost' || written === 'not-found') {
      this.logger.warn({ ...fields, reason: written }, 'task outcome rejected: lease no longer held');
    } else if (written === 'unwritten') {
      this.logger.error(fields, 'could not record task outcome; the lease will expire and the task will run again');
    } else if (outcome.mode === 'complete') {
      this.logger.info(fields, 'task completed');
    } else if (outcome.mode === 'retry') {
      this.logger.warn(
        { ...fields, error: outcome.text, backoff_ms: outcome.delayMs, retry: task.retries + 1, max_retry: task.maxRetry },
        'task failed, retrying',
      );
    } else if (outcome.mode === 'fail') {
      this.logger.error({ ...fields, error: outcome.text, retries: task.retries }, 'task failed permanently');
    } else {
      this.logger.warn(fields, 'task returned to the queue (no retry spent)');
    }
  }

  private completion(task: LeasedTask, result: string): TaskOutcome {
    const limit = this.config.limits.maxResultBytes;
    // Cheap test first: a string of n UTF-16 units has at most 3n UTF-8 bytes.
    if (result.length * 3 > limit) {
      const bytes = Buffer.byteLength(result, 'utf8');
      if (bytes > limit) {
        // The same handler would produce the same result again: retrying cannot help.
        return this.failure(task, `result is ${bytes} bytes, more than MAX_RESULT_BYTES (${limit})`, true);
      }
    }
    return { mode: 'complete', text: result };
  }

  /** notBeforeMs: a RetryAfterError's delay, honoured up to the backoff's cap. */
  private failure(task: LeasedTask, error: string, final: boolean, notBeforeMs?: number): TaskOutcome {
    if (!final && task.retries < task.maxRetry) {
      let delayMs = this.retryStrategy.delayMs(task.retries, task.backoff);
      if (notBeforeMs !== undefined) {
        const capMs = task.backoff?.maxDelayMs ?? this.config.retry.maxDelayMs;
        delayMs = Math.max(delayMs, Math.min(Math.ceil(notBeforeMs), capMs));
      }
      return { mode: 'retry', text: error, delayMs };
    }
    return { mode: 'fail', text: error };
  }

  private fields(task: LeasedTask, workerId: string, extra: Record<string, unknown>): Record<string, unknown> {
    return { task_id: task.id, worker_id: workerId, type: task.type, attempt: task.token, ...extra };
  }

  private async runHandler(task: LeasedTask, signal: AbortSignal): Promise<string> {
    const definition = this.handlers.definition(task.type);
    if (!definition) {
      throw new NonRetryableError(`unknown task type "${task.type}"; known types: ${this.handlers.types().join(', ')}`);
    }
    // Checked at submit already; checked again because the type may have changed since (a new payloadDto).
    const checked = checkPayload(definition, decodeJsonValue(task.payload));
    if (!checked.ok) throw new InvalidPayloadError(checked.problem);
    const { handler } = definition;
    const running = Promise.resolve().then(() => handler.handle(checked.value, { taskId: task.id, attempt: task.token, signal }));
    // A handler that ignores its signal must not hold the slot: stop waiting for it when aborted.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new TaskAbortedError());
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      running.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    });
    return encodeResult(await Promise.race([running, aborted]));
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
