import type { AttemptRecord } from './attempt-history';

export const TASK_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A task as stored, times in epoch milliseconds. */
export interface TaskRecord {
  id: string;
  type: string;
  payload: string;
  status: TaskStatus;
  retries: number;
  maxRetry: number;
  attempts: number;
  /** Leases that expired before the handler started (no retry spent); internal, not in the API. */
  stalls: number;
  result?: string;
  error?: string;
  createdAt: number;
  updatedAt: number;
  runAt?: number;
  startedAt?: number;
  completedAt?: number;
  /** The last attempts, oldest first (HISTORY_MAX at most); read by QueueRepository.get only, not by list. */
  history?: AttemptRecord[];
}

/** What a worker receives when it leases a task. `token` fences every write about this attempt. */
export interface LeasedTask {
  id: string;
  token: number;
  type: string;
  payload: string;
  retries: number;
  maxRetry: number;
}

export interface NewTask {
  id: string;
  type: string;
  payload: string;
  maxRetry: number;
}

/** Position in a listing: the creation score and id of the last task returned. */
export interface ListCursor {
  score: number;
  id: string;
}

export interface TaskPage {
  tasks: TaskRecord[];
  next?: ListCursor;
}

export function parseTaskHash(id: string, h: Record<string, string>): TaskRecord | undefined {
  if (!h.type || !h.status) return undefined;
  const optionalNumber = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  return {
    id,
    type: h.type,
    payload: h.payload ?? '',
    status: h.status as TaskStatus,
    retries: Number(h.retries ?? 0),
    maxRetry: Number(h.max_retry ?? 0),
    attempts: Number(h.attempts ?? 0),
    stalls: Number(h.stalls ?? 0),
    result: h.result,
    error: h.error,
    createdAt: Number(h.created_at),
    updatedAt: Number(h.updated_at),
    runAt: optionalNumber(h.run_at),
    startedAt: optionalNumber(h.started_at),
    completedAt: optionalNumber(h.completed_at),
  };
}
