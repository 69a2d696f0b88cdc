import { applyDecorators, SetMetadata, Type } from '@nestjs/common';
import { BACKOFF_DELAY_MAX_MS, BACKOFF_MAX_DELAY_MAX_MS, MAX_RETRY_LIMIT, TASK_TIMEOUT_MAX_MS, TYPE_MAX_LENGTH } from '../queue/task-limits';
import { BACKOFF_TYPES, BackoffType } from '../queue/task-options';

export type { JsonValue } from '../queue/json-value';

export interface TaskContext {
  taskId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the task is deleted, its lease is lost, or the process stops before it finishes. */
  signal: AbortSignal;
}

/**
 * One task type. A handler is an @Injectable() provider marked with @TaskHandler('name', options),
 * registered with TaskHandlersModule.forFeature([...]); the registry finds it at boot. `payload` is the
 * task's payload as submitted (a JSON value; a string for `payload: 'string'` types), or an instance of
 * the type's payloadDto once validated. The result may be any JSON value. Throw NonRetryableError (or
 * InvalidPayloadError) to fail the task at once; any other error spends a retry.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler narrows its own payload type
export interface TaskHandler<P = any, R = unknown> {
  /** Rejects a payload this type can never process; runs at submit time (400) and before each run. */
  validatePayload?(payload: P): void;
  handle(payload: P, context: TaskContext): Promise<R>;
}

/** A type's own backoff policy (each field left out takes the service default, as in a request's `backoff`). */
export interface TaskTypeBackoff {
  type?: BackoffType;
  delayMs?: number;
  maxDelayMs?: number;
  jitter?: boolean;
}

/** The second argument of @TaskHandler. */
export interface TaskHandlerOptions {
  /**
   * 'json' (the default): the payload is any JSON value (absent = null). 'string': it must be a string
   * (absent = ""), as for the five demo types.
   */
  payload?: 'json' | 'string';
  /** Defaults of the type's tasks, used when the request leaves `timeout_ms`, `max_retry` or `backoff` out. */
  timeoutMs?: number;
  maxRetry?: number;
  backoff?: TaskTypeBackoff;
  /** At most this many tasks of the type run at once in one process (the pool's other slots serve other types). */
  concurrency?: number;
  /** A class-validator class the payload must satisfy: checked at submit (400 naming `payload.<field>`) and before each run. */
  payloadDto?: Type<object>;
}

export const TASK_TYPE_METADATA = 'taskqueue:task-type';
export const TASK_HANDLER_OPTIONS_METADATA = 'taskqueue:task-handler-options';

/** Marks a provider class as the handler of one task type; bad options fail when the class is declared. */
export function TaskHandler(type: string, options: TaskHandlerOptions = {}): ClassDecorator {
  const problems = taskHandlerOptionProblems(type, options);
  if (problems.length > 0) throw new Error(`@TaskHandler('${type}'): ${problems.join('; ')}`);
  return applyDecorators(SetMetadata(TASK_TYPE_METADATA, type), SetMetadata(TASK_HANDLER_OPTIONS_METADATA, options));
}

function taskHandlerOptionProblems(type: string, o: TaskHandlerOptions): string[] {
  const problems: string[] = [];
  const intIn = (name: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) problems.push(`${name} must be an integer between ${min} and ${max}`);
  };
  if (typeof type !== 'string' || type.length === 0 || type.length > TYPE_MAX_LENGTH) problems.push(`the type must be 1 to ${TYPE_MAX_LENGTH} characters`);
  if (o.payload !== undefined && o.payload !== 'json' && o.payload !== 'string') problems.push(`payload must be 'json' or 'string'`);
  intIn('timeoutMs', o.timeoutMs, 1, TASK_TIMEOUT_MAX_MS);
  intIn('maxRetry', o.maxRetry, 0, MAX_RETRY_LIMIT);
  intIn('concurrency', o.concurrency, 1, 100_000);
  if (o.backoff !== undefined) {
    const b = o.backoff;
    if (b.type !== undefined && !BACKOFF_TYPES.includes(b.type)) problems.push(`backoff.type must be one of: ${BACKOFF_TYPES.join(', ')}`);
    intIn('backoff.delayMs', b.delayMs, 1, BACKOFF_DELAY_MAX_MS);
    intIn('backoff.maxDelayMs', b.maxDelayMs, 1, BACKOFF_MAX_DELAY_MAX_MS);
    if (b.delayMs !== undefined && b.maxDelayMs !== undefined && b.maxDelayMs < b.delayMs) problems.push('backoff.maxDelayMs must not be smaller than backoff.delayMs');
  }
  if (o.payloadDto !== undefined && typeof o.payloadDto !== 'function') problems.push('payloadDto must be a class');
  if (o.payloadDto !== undefined && o.payload === 'string') problems.push(`payloadDto needs payload 'json'`);
  return problems;
}

/** The task fails at once, without spending retries. */
export class NonRetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonRetryableError';
  }
}

/**
 * A retryable failure that asks for the next attempt not before `delayMs` from now (an HTTP
 * `Retry-After`, a rate limit's reset). The worker waits the longer of this and the task's backoff,
 * but never longer than the backoff's cap (the task's max_delay_ms, else RETRY_MAX_DELAY_MS). Spends a
 * retry like any other error; on the last retry the task fails.
 */
export class RetryAfterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryAfterError';
  }
}

export class InvalidPayloadError extends NonRetryableError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

/** Thrown by handlers that stop because their signal aborted. */
export class TaskAbortedError extends Error {
  constructor() {
    super('task aborted');
    this.name = 'TaskAbortedError';
  }
}
