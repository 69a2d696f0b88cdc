import type { AttemptRecord } from './attempt-history';
import { expandTaskHash } from './compact-task';
import { queueOfTaskId } from './task-id';
import { BackoffPolicy, decodeTaskOptions, TASK_PRIORITIES, TaskPriority } from './task-options';

export const TASK_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Completed and failed: terminal, kept until retention; listed and retained by finish time (s:<status>). */
export function isFinishedStatus(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed';
}

/** A task as stored, times in epoch milliseconds. */
export interface TaskRecord {
  id: string;
  /** The queue the task belongs to (also encoded in its id: queueOfTaskId). */
  queue: string;
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
  /** Absent for normal tasks (nothing is stored for the default level). */
  priority?: TaskPriority;
  /** The task's own limit on one attempt, overriding TASK_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The task's own backoff policy (resolved at submit), overriding the retry strategy's default. */
  backoff?: BackoffPolicy;
  /** The last attempts, oldest first (HISTORY_MAX at most); read by QueueRepository.get only, not by list. */
  history?: AttemptRecord[];
  /** Created by a periodic schedule: its id, and the tick (epoch ms) the task is for. */
  scheduleId?: string;
  scheduledFor?: number;
}

/** What a worker receives when it leases a task. `token` fences every write about this attempt. */
export interface LeasedTask {
  id: string;
  token: number;
  type: string;
  payload: string;
  retries: number;
  maxRetry: number;
  /** The task's own limit on one attempt; TASK_TIMEOUT_MS when absent. */
  timeoutMs?: number;
  /** The task's own backoff policy; the retry strategy's default when absent. */
  backoff?: BackoffPolicy;
  /**
   * For the metrics (set by fetch): how long the task had been due and how old it was when leased, by
   * Redis' clock (ms), and when the lease was received by this process's clock (epoch ms). The wait
   * to start and the time to finish add this process's time since `leasedAt`, so no two clocks are compared.
   */
  dueForMs?: number;
  ageMs?: number;
  leasedAt?: number;
}

export interface NewTask {
  /** newTaskId(queue): the queue is part of the id. */
  id: string;
  /** Absent: `default`. Must be the queue of `id` (queueOfTaskId). */
  queue?: string;
  type: string;
  payload: string;
  maxRetry: number;
  /** Runs this long after its creation (by Redis' clock); wins over runAt. */
  delayMs?: number;
  /** Runs at this time (epoch ms, by Redis' clock); a time not after the creation means at once. */
  runAt?: number;
  /** Absent or 'normal': the normal level. */
  priority?: TaskPriority;
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Remembered for the idempotency lifetime with requestHash: a repeat is answered with this task. */
  idempotencyKey?: string;
  /** Hash of the canonical request that created the task; a repeat of the key with another hash is a conflict. */
  requestHash?: string;
  /** Created by a periodic schedule (stored as the task field `sched`: `<schedule id>|<tick ms>`). */
  scheduleId?: string;
  scheduledFor?: number;
}

/**
 * Position in a listing: the part, score and id of the last task returned. A listing goes through the
 * open part (pending and processing tasks, score = creation time), then the finished part (completed
 * and failed tasks, score = finish time), newest score first within each (lua/list.lua).
 */
export interface ListCursor {
  score: number;
  id: string;
  /** In the finished part (absent or false: the open part). */
  finished?: boolean;
}

export interface TaskPage {
  tasks: TaskRecord[];
  next?: ListCursor;
}

export function parseTaskHash(id: string, stored: Record<string, string>): TaskRecord | undefined {
  const h = expandTaskHash(stored);
  if (!h.type || !h.status) return undefined;
  const optionalNumber = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  return {
    id,
    queue: queueOfTaskId(id),
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
    // A task not written since its creation may leave updated_at out (test defaults-omitted).
    updatedAt: Number(h.updated_at ?? h.created_at),
    runAt: optionalNumber(h.run_at),
    startedAt: optionalNumber(h.started_at),
    // Finished tasks store no completed_at (lua/lib/common.lua finish): their updated_at is the finish
    // time. Tasks finished before kept completed_at (equal to updated_at).
    completedAt: optionalNumber(h.completed_at) ?? (h.status === 'completed' || h.status === 'failed' ? Number(h.updated_at) : undefined),
    priority: (TASK_PRIORITIES as readonly string[]).includes(h.priority) ? (h.priority as TaskPriority) : undefined,
    ...decodeTaskOptions(h.opts),
    ...decodeSchedule(h.sched),
  };
}

/** The task field `sched` (enqueue.lua): `<schedule id>|<tick ms>`, only on tasks a schedule created. */
export function encodeSchedule(t: Pick<NewTask, 'scheduleId' | 'scheduledFor'>): string {
  return t.scheduleId === undefined ? '' : `${t.scheduleId}|${t.scheduledFor ?? ''}`;
}

function decodeSchedule(sched: string | undefined): Pick<TaskRecord, 'scheduleId' | 'scheduledFor'> {
  if (!sched) return {};
  const m = /^([^|]+)\|(\d+)$/.exec(sched);
  return m ? { scheduleId: m[1], scheduledFor: Number(m[2]) } : {};
}
