import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ATTEMPT_OUTCOMES, AttemptOutcome, AttemptRecord } from '../queue/attempt-history';
import { BACKOFF_TYPES, BackoffType, TASK_PRIORITIES, TaskPriority } from '../queue/task-options';
import { DEFAULT_QUEUE, QUEUE_NAME_PATTERN, TASK_ID_PATTERN } from '../queue/task-id';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../queue/task.model';
import { decodeJsonValue, JsonValue } from '../queue/json-value';
import { JSON_VALUE_SCHEMA } from './dto/create-task.dto';

/** One ended attempt as the API returns it (GET /tasks/{id} only). */
export class AttemptResponse {
  @ApiProperty({ minimum: 1 })
  attempt: number;
  /** null when the handler never started (leased, then handed back or lost). */
  @ApiProperty({ type: String, nullable: true, description: 'null when the handler never started (leased, then handed back or lost)' })
  worker_id: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  started_at: string | null;
  @ApiProperty({ format: 'date-time' })
  ended_at: string;
  @ApiProperty({ enum: ATTEMPT_OUTCOMES })
  outcome: AttemptOutcome;
  @ApiPropertyOptional()
  error?: string;
}

/** A task's own backoff policy, as resolved at submit (every field set). */
export class BackoffResponse {
  @ApiProperty({ enum: BACKOFF_TYPES })
  type: BackoffType;
  @ApiProperty({ minimum: 1 })
  delay_ms: number;
  @ApiProperty({ minimum: 1 })
  max_delay_ms: number;
  @ApiProperty()
  jitter: boolean;
}

/**
 * The task as the API returns it: snake_case, ISO-8601 UTC times, field names of the original service.
 * A class so that the OpenAPI document is generated from it; toTaskResponse builds it as an object
 * literal typed by it, so a field added to one and not the other does not compile.
 */
export class TaskResponse {
  @ApiProperty({ pattern: TASK_ID_PATTERN.source, description: '22 characters of base64url for a task of the queue default, <queue>.<id> for any other queue (a UUID for tasks created before 2026-11-30); opaque' })
  id: string;
  @ApiProperty({ pattern: QUEUE_NAME_PATTERN.source, example: DEFAULT_QUEUE })
  queue: string;
  @ApiProperty()
  type: string;
  @ApiProperty({ ...JSON_VALUE_SCHEMA, description: 'as submitted (when none was given: "" for the five demo types, null for other types)' })
  payload: JsonValue;
  @ApiProperty({ enum: TASK_STATUSES })
  status: TaskStatus;
  @ApiPropertyOptional({ ...JSON_VALUE_SCHEMA, description: 'the handler\'s result (any JSON value; a string for the demo types), when completed' })
  result?: JsonValue;
  @ApiPropertyOptional({ description: 'the last error' })
  error?: string;
  @ApiProperty({ minimum: 0 })
  retries: number;
  @ApiProperty({ minimum: 0 })
  max_retry: number;
  @ApiProperty({ minimum: 0, description: 'attempts started so far' })
  attempts: number;
  @ApiProperty({ format: 'date-time' })
  created_at: string;
  @ApiProperty({ format: 'date-time' })
  updated_at: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'when a pending task may run' })
  run_at?: string;
  @ApiPropertyOptional({ format: 'date-time' })
  started_at?: string;
  @ApiPropertyOptional({ format: 'date-time' })
  completed_at?: string;
  /** When not normal. */
  @ApiPropertyOptional({ enum: TASK_PRIORITIES, description: 'present when not normal' })
  priority?: TaskPriority;
  /** When the task has its own (else TASK_TIMEOUT_MS applies). */
  @ApiPropertyOptional({ minimum: 1, description: 'present when the task has its own (else TASK_TIMEOUT_MS applies)' })
  timeout_ms?: number;
  /** When the task has its own policy: as resolved at submit (every field set). */
  @ApiPropertyOptional({ type: BackoffResponse, description: 'present when the task has its own policy' })
  backoff?: BackoffResponse;
  /** The last attempts, oldest first: in GET /tasks/{id} (and its wait and events forms), never in listings. */
  @ApiPropertyOptional({ type: [AttemptResponse], description: 'the last attempts, oldest first: in GET /tasks/{id} (and its wait and events forms), never in listings' })
  history?: AttemptResponse[];
  /** Created by a periodic schedule: its id. */
  @ApiPropertyOptional({ format: 'uuid', description: 'present on a task a periodic schedule created: that schedule' })
  schedule_id?: string;
  /** Created by a periodic schedule: the tick the task is for. */
  @ApiPropertyOptional({ format: 'date-time', description: 'present on a task a periodic schedule created: the tick it is for' })
  scheduled_for?: string;
}

// A batch or a page shares a handful of timestamps: remember the last one formatted.
let lastMs = NaN;
let lastIso = '';
function iso(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

export function toTaskResponse(t: TaskRecord): TaskResponse {
  return {
    id: t.id,
    queue: t.queue,
    type: t.type,
    payload: decodeJsonValue(t.payload),
    status: t.status,
    result: t.status === 'completed' && t.result !== undefined ? decodeJsonValue(t.result) : undefined,
    error: t.error || undefined,
    retries: t.retries,
    max_retry: t.maxRetry,
    attempts: t.attempts,
    created_at: iso(t.createdAt) as string,
    updated_at: iso(t.updatedAt) as string,
    run_at: t.status === 'pending' ? iso(t.runAt) : undefined,
    started_at: iso(t.startedAt),
    completed_at: iso(t.completedAt),
    priority: t.priority,
    timeout_ms: t.timeoutMs,
    backoff: t.backoff && { type: t.backoff.type, delay_ms: t.backoff.delayMs, max_delay_ms: t.backoff.maxDelayMs, jitter: t.backoff.jitter },
    history: t.history?.map(toAttemptResponse),
    schedule_id: t.scheduleId,
    scheduled_for: t.scheduledFor === undefined ? undefined : new Date(t.scheduledFor).toISOString(),
  };
}

function toAttemptResponse(a: AttemptRecord): AttemptResponse {
  return {
    attempt: a.attempt,
    worker_id: a.workerId ?? null,
    started_at: a.startedAt === undefined ? null : new Date(a.startedAt).toISOString(),
    ended_at: new Date(a.endedAt).toISOString(),
    outcome: a.outcome,
    error: a.error,
  };
}
