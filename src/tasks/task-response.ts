import { TaskRecord, TaskStatus } from '../queue/task.model';

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
  };
}
