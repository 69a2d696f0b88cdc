import { createHash } from 'node:crypto';
import { CreateTaskDto } from './dto/create-task.dto';
import { parseRunAt } from './dto/run-at';

/**
 * What an idempotency key is compared by: a hash of the request's canonical form, the task fields in a
 * fixed order (absent ones as null), so key order and whitespace do not matter, and run_at as the
 * instant it names (`12:00Z` and `13:00+01:00` are the same request). A JSON payload's object keys are
 * sorted at every depth (array items keep their order). A batch element's own idempotency_key is not
 * part of it. `queue` is appended only when given, so a request without it hashes as before queue was
 * part of the hash (keys stored by an older version still replay) and differs from one naming `default`.
 */
export function requestHash(body: CreateTaskDto): string {
  const runAt = body.run_at === undefined ? null : (parseRunAt(body.run_at) ?? body.run_at);
  const b = body.backoff;
  const canonical = [
    body.type,
    sortedKeys(body.payload ?? null),
    body.max_retry ?? null,
    body.delay_ms ?? null,
    runAt,
    body.priority ?? null,
    body.timeout_ms ?? null,
    b === undefined ? null : [b.type ?? null, b.delay_ms ?? null, b.max_delay_ms ?? null, b.jitter ?? null],
  ];
  if (body.queue !== undefined) canonical.push(body.queue);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** The value with every object's keys in sorted order (JSON.stringify writes them in insertion order). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  // Built as entries, so that a key named __proto__ stays a plain key.
  return Object.fromEntries(Object.keys(source).sort().map((k) => [k, sortedKeys(source[k])]));
}
