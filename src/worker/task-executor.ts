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
import { InvalidPayloadError, NonRetryableError, RetryAfterError, TaskContext } from '../task-types/task-handler';
import { checkPayload } from '../task-types/task-payload';
import { Deadline, DeadlineTarget, DeadlineTimers } from './deadline-timers';

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
  /** The timeouts of the attempts it runs (one Node timer per duration, not per attempt). */
  readonly deadlines = new DeadlineTimers();

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
  run(task: LeasedTask, workerId: string, signal: AbortSignal): Promise<TaskOutcome> {
    return new Promise((resolve) => {
      const forward = () => attempt.abort(signal.reason as AbortReason);
      const attempt = this.start(task, workerId, (outcome) => {
        signal.removeEventListener('abort', forward);
        resolve(outcome);
      });
      if (signal.aborted) forward();
      else signal.addEventListener('abort', forward, { once: true });
    });
  }

  /**
   * `run` for the pool, without a promise, an AbortController or a listener of its own: the returned
   * attempt is aborted by calling its `abort`, and `done` gets the outcome once, never from within
   * this call or an `abort` call (the handler is invoked in a microtask, and an abort ends the
   * attempt in one).
   */
  start(task: LeasedTask, workerId: string, done: (outcome: TaskOutcome) => void): RunningAttempt {
    if (levelEnabled(this.logger, 'info')) this.logger.info(this.fields(task, workerId, { retries: task.retries }), 'processing task');
    this.metrics.started(task);
    const attempt = new RunningAttempt(this, task, task.timeoutMs ?? this.config.worker.taskTimeoutMs, done);
    attempt.begin();
    return attempt;
  }

  /** What an attempt came to: `result` or `failure` from its handler, and why it was aborted (if it was) by then. */
  outcomeOf(task: LeasedTask, reason: AbortReason | undefined, timeoutMs: number, result: string | undefined, failure: unknown): TaskOutcome {
    if (reason === 'timeout') this.metrics.timedOut(task.type, queueOfTaskId(task.id));
    if (reason === 'deleted' || reason === 'lease-lost') return { mode: 'discard', reason };
    if (result !== undefined) return this.completion(task, result);
    if (reason === 'shutdown') return { mode: 'requeue', text: '' };
    const error = reason === 'timeout' ? `timeout after ${timeoutMs} ms` : errorMessage(failure);
    const notBeforeMs = failure instanceof RetryAfterError ? failure.delayMs : undefined;
    return this.failure(task, error, failure instanceof NonRetryableError, notBeforeMs);
  }

  /** Calls the task's handler (its payload checked first); returns what the handler returns. Throws what it throws. */
  invoke(task: LeasedTask, context: TaskContext): unknown {
    const definition = this.handlers.definition(task.type);
    if (!definition) {
      throw new NonRetryableError(`unknown task type "${task.type}"; known types: ${this.handlers.types().join(', ')}`);
    }
    // Checked at submit already; checked again because the type may have changed since (a new payloadDto).
    const checked = checkPayload(definition, decodeJsonValue(task.payload));
    if (!checked.ok) throw new InvalidPayloadError(checked.problem);
    return definition.handler.handle(checked.value, context);
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
    if (written === 'applied' && outcome.mode === 'complete') {
      // The common case: one info line, its fields built only when info is on.
      if (levelEnabled(this.logger, 'info')) this.logger.info(this.fields(task, workerId, { duration_ms: durationMs }), 'task completed');
      return;
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
}

/** Whether `logger` writes this level (a logger that cannot say, such as a spec's, writes all). */
export function levelEnabled(logger: PinoLogger, level: 'info' | 'debug'): boolean {
  const pino = (logger as { logger?: { isLevelEnabled?: (level: string) => boolean } }).logger;
  return pino?.isLevelEnabled === undefined || pino.isLevelEnabled(level);
}

/**
 * One attempt of a task's handler, as TaskExecutor.start runs it: its timeout (a deadline in the
 * executor's DeadlineTimers, not a timer of its own) and its end, once. The handler's signal is made when the handler first reads it (most never do): an
 * AbortController costs more than the rest of an attempt together.
 */
export class RunningAttempt implements DeadlineTarget {
  private ended = false;
  private reason?: AbortReason;
  private controller?: AbortController;
  private deadline?: Deadline;

  constructor(
    private readonly executor: TaskExecutor,
    private readonly task: LeasedTask,
    private readonly timeoutMs: number,
    private readonly done: (outcome: TaskOutcome) => void,
  ) {}

  /** The handler's signal: aborted with the attempt's reason. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  begin(): void {
    this.deadline = this.executor.deadlines.add(this.timeoutMs, this);
    queueMicrotask(() => this.invoke());
  }

  /** The attempt ran out of time. */
  onDeadline(): void {
    this.abort('timeout');
  }

  /** Stops the attempt (the first reason stays): the handler's signal aborts, and the attempt ends without waiting for the handler. */
  abort(reason: AbortReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    if (!this.ended) queueMicrotask(() => this.end(undefined, undefined));
  }

  private invoke(): void {
    if (this.ended) return;
    let value: unknown;
    try {
      value = this.executor.invoke(this.task, new AttemptContext(this.task, this));
    } catch (err) {
      this.end(undefined, err);
      return;
    }
    if (isThenable(value)) {
      value.then(
        (v) => this.resolved(v),
        (err: unknown) => this.end(undefined, err),
      );
    } else {
      this.resolved(value);
    }
  }

  private resolved(value: unknown): void {
    let result: string;
    try {
      result = encodeResult(value);
    } catch (err) {
      this.end(undefined, err);
      return;
    }
    this.end(result, undefined);
  }

  private end(result: string | undefined, failure: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.deadline) this.executor.deadlines.cancel(this.deadline);
    this.done(this.executor.outcomeOf(this.task, this.reason, this.timeoutMs, result, failure));
  }
}

/**
 * What a handler is given with its payload; `signal` is read through to the attempt. It is an own,
 * enumerable accessor (not a prototype getter), so a handler that copies its context ({ ...context },
 * Object.assign) still gets the signal; the copy reads it, which makes it.
 */
class AttemptContext implements TaskContext {
  /**
   * One accessor shared by every context: a getter function of its own per context (a closure over the
   * attempt) gave each context its own hidden class, which cost more than the rest of the object.
   */
  private static readonly signalProperty: PropertyDescriptor = {
    get(this: AttemptContext): AbortSignal {
      return this.#owner.signal;
    },
    enumerable: true,
  };

  readonly taskId: string;
  readonly attempt: number;
  declare readonly signal: AbortSignal;
  readonly #owner: RunningAttempt;

  constructor(task: LeasedTask, owner: RunningAttempt) {
    this.taskId = task.id;
    this.attempt = task.token;
    this.#owner = owner;
    Object.defineProperty(this, 'signal', AttemptContext.signalProperty);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
