/** A submitted task that can never run: unknown type, or a payload its type rejects. Maps to 400. */
export class InvalidTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTaskError';
  }
}

/** An idempotency key used before with a different request (body). Maps to 422. */
export class IdempotencyConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdempotencyConflictError';
  }
}

/** An idempotency key whose task no longer exists (deleted, or removed by retention). Maps to 410. */
export class IdempotencyGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdempotencyGoneError';
  }
}

/** A malformed listing cursor. Maps to 400. */
export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not valid; use the URL of the Link rel="next" header');
    this.name = 'InvalidCursorError';
  }
}

/** A task payload over MAX_PAYLOAD_BYTES, checked before anything is stored. Maps to 413. */
export class PayloadTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}

/** POST /tasks/{id}/retry of a task that is not failed (its state named). Maps to 409. */
export class TaskNotFailedError extends Error {
  constructor(readonly status: string) {
    super(`task is ${status}; only a failed task can be retried`);
    this.name = 'TaskNotFailedError';
  }
}
