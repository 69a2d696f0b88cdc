import { randomUUID } from 'node:crypto';

/** The queue a task goes to when it names none; its tasks keep plain UUID ids. */
export const DEFAULT_QUEUE = 'default';

/** Queue names: lowercase letters, digits, `_` and `-`, 1 to 64 characters; never a `.` (see taskIdFor). */
export const QUEUE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const QUEUE_NAME_MESSAGE = 'must be 1 to 64 characters: lowercase letters, digits, _ and -, starting with a letter or digit';

export function isQueueName(value: unknown): value is string {
  return typeof value === 'string' && QUEUE_NAME_PATTERN.test(value);
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A task id as the service issues it: a UUID (queue default), or `<queue>.<uuid>` (any other queue). */
export const TASK_ID_PATTERN = new RegExp(`^(?:[a-z0-9][a-z0-9_-]{0,63}\\.)?${UUID}$`);

/**
 * A new task id. The queue is part of the id, so `GET/DELETE /tasks/{id}` find the task without a
 * lookup: tasks of `default` keep plain UUIDs (ids issued before named queues stay valid), tasks of
 * any other queue get `<queue>.<uuid>` (queue names never contain a `.`).
 */
export function newTaskId(queue: string = DEFAULT_QUEUE): string {
  return queue === DEFAULT_QUEUE ? randomUUID() : `${queue}.${randomUUID()}`;
}

/** The queue a task id belongs to: the part before the `.`, or `default` for a plain UUID. The only id → queue lookup. */
export function queueOfTaskId(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? DEFAULT_QUEUE : id.slice(0, dot);
}
