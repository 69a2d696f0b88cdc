import { SetMetadata } from '@nestjs/common';

export interface TaskContext {
  taskId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the task is deleted, its lease is lost, or the process stops before it finishes. */
  signal: AbortSignal;
}

/**
 * One task type. A handler is a Nest provider marked with @TaskType('name'); the registry finds it at
 * boot. Throw NonRetryableError (or InvalidPayloadError) to fail the task at once; any other error
 * spends a retry.
 */
export interface TaskHandler {
  /** Rejects a payload this type can never process; runs at submit time (400) and before each run. */
  validatePayload?(payload: string): void;
  handle(payload: string, context: TaskContext): Promise<string>;
}

export const TASK_TYPE_METADATA = 'taskqueue:task-type';

/** Marks a provider class as the handler of one task type. */
export const TaskType = (type: string): ClassDecorator => SetMetadata(TASK_TYPE_METADATA, type);

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
