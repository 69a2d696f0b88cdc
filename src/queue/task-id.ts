import { randomFillSync } from 'node:crypto';

/** The queue a task goes to when it names none; its tasks have plain ids (no queue part). */
export const DEFAULT_QUEUE = 'default';

/** Queue names: lowercase letters, digits, `_` and `-`, 1 to 64 characters; never a `.` (see taskIdFor). */
export const QUEUE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const QUEUE_NAME_MESSAGE = 'must be 1 to 64 characters: lowercase letters, digits, _ and -, starting with a letter or digit';

export function isQueueName(value: unknown): value is string {
  return typeof value === 'string' && QUEUE_NAME_PATTERN.test(value);
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** The id of a task as issued since 2026-11-30: 16 random bytes in base64url, 22 characters. */
const SHORT_ID = '[A-Za-z0-9_-]{22}';

/**
 * A task id as the service issues it: 22 characters of base64url (queue default), or
 * `<queue>.<22 characters>` (any other queue). Ids issued before (a UUID, `<queue>.<uuid>`) stay valid.
 */
export const TASK_ID_PATTERN = new RegExp(`^(?:[a-z0-9][a-z0-9_-]{0,63}\\.)?(?:${UUID}|${SHORT_ID})$`);

/** A UUID in any case, as ids issued before 2026-11-30 were (compared in lower case). */
export const UUID_ID_PATTERN = new RegExp(`^(?:[a-z0-9][a-z0-9_-]{0,63}\\.)?${UUID}$`, 'i');

// Random bytes are drawn 4 KiB at a time (one call for 256 ids), as randomUUID does.
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

/**
 * A new task id: 16 random bytes (128 bits, more than a UUID v4's 122) as 22 characters of base64url,
 * so every copy of an id in Redis (the task hash's key, each index entry) is 14 bytes shorter than a
 * UUID. The queue is part of the id, so `GET/DELETE /tasks/{id}` find the task without a lookup:
 * tasks of `default` get the plain id, tasks of any other queue `<queue>.<id>` (queue names never
 * contain a `.`, and base64url has none).
 */
export function newTaskId(queue: string = DEFAULT_QUEUE): string {
  if (poolAt === POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const id = POOL.toString('base64url', poolAt, poolAt + 16);
  poolAt += 16;
  return queue === DEFAULT_QUEUE ? id : `${queue}.${id}`;
}

/** The queue a task id belongs to: the part before the `.`, or `default` for an id without one. The only id → queue lookup. */
export function queueOfTaskId(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? DEFAULT_QUEUE : id.slice(0, dot);
}
