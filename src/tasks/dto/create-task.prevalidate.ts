import { MAX_RETRY_LIMIT, TYPE_MAX_LENGTH } from '../../queue/task-limits';
import { CreateTaskDto } from './create-task.dto';

const ALLOWED = new Set(['type', 'payload', 'max_retry']);

/**
 * A fast yes for task bodies that are plainly valid, for POST /tasks/batch: class-validator costs
 * ~25-50 µs a body, which caps a 1000-task batch well below its target. Strictly a subset of what
 * CreateTaskDto accepts (a spec checks this property on random input): anything it does not accept
 * goes through the ValidationPipe, which then also writes the error message. It never rejects.
 */
export function isPlainlyValidTaskBody(value: unknown): value is CreateTaskDto {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (!ALLOWED.has(key)) return false;
  const { type, payload, max_retry } = value as Record<string, unknown>;
  // UTF-16 length >= code points, so a type that fits here also fits class-validator's MaxLength.
  if (typeof type !== 'string' || type.length === 0 || type.length > TYPE_MAX_LENGTH) return false;
  if (payload !== undefined && typeof payload !== 'string') return false;
  if (max_retry !== undefined && !(Number.isInteger(max_retry) && (max_retry as number) >= 0 && (max_retry as number) <= MAX_RETRY_LIMIT)) {
    return false;
  }
  return Object.keys(value).length <= 3;
}
