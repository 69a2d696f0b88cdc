import {
  BACKOFF_DELAY_MAX_MS,
  BACKOFF_MAX_DELAY_MAX_MS,
  IDEMPOTENCY_KEY_PATTERN,
  MAX_RETRY_LIMIT,
  SCHEDULE_MAX_AHEAD_MS,
  TASK_TIMEOUT_MAX_MS,
  TYPE_MAX_LENGTH,
} from '../../queue/task-limits';
import { isQueueName } from '../../queue/task-id';
import { BACKOFF_TYPES, TASK_PRIORITIES } from '../../queue/task-options';
// Types only: create-task.dto.ts imports this file (its fast path).
import type { CreateBatchTaskDto } from './create-batch-task.dto';
import type { CreateTaskDto } from './create-task.dto';
import { runAtProblem } from './run-at';

const TASK_KEYS = new Set(['type', 'payload', 'max_retry', 'delay_ms', 'run_at', 'priority', 'timeout_ms', 'backoff', 'queue']);
const BATCH_ELEMENT_KEYS = new Set([...TASK_KEYS, 'idempotency_key']);
const BACKOFF_KEYS = new Set(['type', 'delay_ms', 'max_delay_ms', 'jitter']);

/**
 * A fast yes for task bodies that are plainly valid, for POST /tasks (the ValidationPipe, through
 * PlainlyValidWhen on CreateTaskDto) and POST /tasks/batch: class-validator costs ~25-50 µs a body,
 * which caps a 1000-task batch well below its target and was the largest cost of POST /tasks of ours. Strictly a subset of what
 * CreateTaskDto accepts (a spec checks this property on random input): anything it does not accept
 * goes through the ValidationPipe, which then also writes the error message. It never rejects. A payload
 * may be any JSON value here as in the DTO: the task type checks it (TasksService).
 */
export function isPlainlyValidTaskBody(value: unknown): value is CreateTaskDto {
  return plainlyValid(value, TASK_KEYS);
}

/** The same for an element of POST /tasks/batch (CreateBatchTaskDto: a task body and its idempotency_key). */
export function isPlainlyValidBatchElement(value: unknown): value is CreateBatchTaskDto {
  return plainlyValid(value, BATCH_ELEMENT_KEYS);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

const integerIn = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

function plainlyValid(value: unknown, allowed: Set<string>): boolean {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (!allowed.has(key)) return false;
  const { type, max_retry, delay_ms, run_at, priority, timeout_ms, backoff, idempotency_key, queue } = value;
  // UTF-16 length >= code points, so a type that fits here also fits class-validator's MaxLength.
  if (typeof type !== 'string' || type.length === 0 || type.length > TYPE_MAX_LENGTH) return false;
  if (max_retry !== undefined && !integerIn(max_retry, 0, MAX_RETRY_LIMIT)) return false;
  if (delay_ms !== undefined && !integerIn(delay_ms, 0, SCHEDULE_MAX_AHEAD_MS)) return false;
  if (run_at !== undefined && (typeof run_at !== 'string' || runAtProblem(run_at, delay_ms) !== undefined)) return false;
  if (priority !== undefined && !(TASK_PRIORITIES as readonly unknown[]).includes(priority)) return false;
  if (timeout_ms !== undefined && !integerIn(timeout_ms, 1, TASK_TIMEOUT_MAX_MS)) return false;
  if (backoff !== undefined && !plainlyValidBackoff(backoff)) return false;
  if (queue !== undefined && !isQueueName(queue)) return false;
  if (idempotency_key !== undefined && !(typeof idempotency_key === 'string' && IDEMPOTENCY_KEY_PATTERN.test(idempotency_key))) return false;
  return Object.keys(value).length <= allowed.size;
}

function plainlyValidBackoff(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (!BACKOFF_KEYS.has(key)) return false;
  const { type, delay_ms, max_delay_ms, jitter } = value;
  if (type !== undefined && !(BACKOFF_TYPES as readonly unknown[]).includes(type)) return false;
  if (delay_ms !== undefined && !integerIn(delay_ms, 1, BACKOFF_DELAY_MAX_MS)) return false;
  if (max_delay_ms !== undefined && !integerIn(max_delay_ms, 1, BACKOFF_MAX_DELAY_MAX_MS)) return false;
  if (max_delay_ms !== undefined && delay_ms !== undefined && (max_delay_ms as number) < (delay_ms as number)) return false;
  if (jitter !== undefined && typeof jitter !== 'boolean') return false;
  return true;
}
