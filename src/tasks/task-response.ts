import { AttemptOutcome, AttemptRecord } from '../queue/attempt-history';
import { BackoffType, TaskPriority } from '../queue/task-options';
import { TaskRecord, TaskStatus } from '../queue/task.model';

/** One ended attempt as the API returns it (GET /tasks/{id} only). */
export interface AttemptResponse {
  attempt: number;
  /** null when the handler never started (leased, then handed back or lost). */
  worker_id: string | null;
  started_at: string | null;
  ended_at: string;
  outcome: AttemptOutcome;
  error?: string;
}

/** The task as the API returns it: snake_case, ISO-8601 UTC times, field names of the original service. */
export interface TaskResponse {
  id: string;
  type: string;
  payload: string;
  status: TaskStatus;
  result?: string;
  error?: string;
  retries: number;
  max_retry: number;
  attempts: number;
  created_at: string;
  updated_at: string;
  run_at?: string;
  started_at?: string;
  completed_at?: string;
  /** When not normal. */
  priority?: TaskPriority;
  /** When the task has its own (else TASK_TIMEOUT_MS applies). */
  timeout_ms?: number;
  /** When the task has its own policy: as resolved at submit (every field set). */
  backoff?: { type: BackoffType; delay_ms: number; max_delay_ms: number; jitter: boolean };
  /** The last attempts, oldest first: in GET /tasks/{id} (and its wait and events forms), never in listings. */
  history?: AttemptResponse[];
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
    type: t.type,
    payload: t.payload,
    status: t.status,
    result: t.status === 'completed' ? t.result : undefined,
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
