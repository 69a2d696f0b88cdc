/** Result codes returned by the Lua scripts; mirrored in lua/lib/common.lua. */
export enum QueueErrorCode {
  NotFound = -1,
  LeaseLost = -2,
  DuplicateId = -3,
}

export class TaskNotFoundError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} not found`);
    this.name = 'TaskNotFoundError';
  }
}

/** The attempt's lease was recovered by another process, re-leased, or the task was deleted. */
export class LeaseLostError extends Error {
  constructor(readonly taskId: string) {
    super(`lease on task ${taskId} is no longer held`);
    this.name = 'LeaseLostError';
  }
}

export class DuplicateTaskIdError extends Error {
  constructor() {
    super('a task with this id already exists');
    this.name = 'DuplicateTaskIdError';
  }
}

/** Redis did not answer (down, unreachable, timed out) or answered that it cannot serve now (BUSY, LOADING...). Maps to HTTP 503. */
export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`queue store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'QueueUnavailableError';
  }
}

/**
 * Redis refused a command for a reason that retrying does not cure (WRONGTYPE, NOPERM, OOM, a script
 * error...). Maps to HTTP 500; `reply` is Redis' own text, for the log only (never sent to clients).
 */
export class QueueServerError extends Error {
  readonly reply: string;
  /** The command ioredis sent (e.g. "evalsha", "hgetall"), when it says; never its arguments. */
  readonly command?: string;

  constructor(cause: unknown) {
    const reply = cause instanceof Error ? cause.message : String(cause);
    super(`queue store error: ${reply}`, { cause });
    this.name = 'QueueServerError';
    this.reply = reply;
    const command = (cause as { command?: { name?: unknown } } | null)?.command?.name;
    if (typeof command === 'string') this.command = command;
  }
}

/** The one place where script result codes become domain errors. Returns the value when it is not an error code. */
export function checkScriptResult<T>(result: T, taskId: string): T {
  if (typeof result !== 'number' || result >= 0) return result;
  const code = result as QueueErrorCode;
  switch (code) {
    case QueueErrorCode.NotFound:
      throw new TaskNotFoundError(taskId);
    case QueueErrorCode.LeaseLost:
      throw new LeaseLostError(taskId);
    case QueueErrorCode.DuplicateId:
      throw new DuplicateTaskIdError();
    default: {
      const unexpected: never = code;
      throw new Error(`unexpected script result ${String(unexpected)} for task ${taskId}`);
    }
  }
}
