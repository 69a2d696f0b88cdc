/**
 * Per-task options beyond type, payload and max_retry: priority level and backoff policy, with their
 * stored encodings (mirrored by lua/lib/task-options.lua).
 */

/** Levels in the order fetch takes from them: every due `high` task before any due `normal` one, and so on. */
export const TASK_PRIORITIES = ['high', 'normal', 'low'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
/** The level of a task stored without a `priority` field: nothing is stored for it. */
export const DEFAULT_PRIORITY: TaskPriority = 'normal';

export const BACKOFF_TYPES = ['exponential', 'fixed'] as const;
export type BackoffType = (typeof BACKOFF_TYPES)[number];

/**
 * How long a task waits before retry n+1: `exponential` waits delayMs * 2^n, `fixed` delayMs, both
 * capped at maxDelayMs; with jitter, a uniform draw between half of that and all of it.
 */
export interface BackoffPolicy {
  type: BackoffType;
  delayMs: number;
  maxDelayMs: number;
  jitter: boolean;
}

/** Stored as the task field `backoff`: `<e|f>:<delay_ms>:<max_delay_ms>:<0|1>` (lua/lib/task-options.lua backoff_delay). */
export function encodeBackoff(p: BackoffPolicy): string {
  return `${p.type === 'fixed' ? 'f' : 'e'}:${p.delayMs}:${p.maxDelayMs}:${p.jitter ? 1 : 0}`;
}

export function decodeBackoff(text: string | undefined): BackoffPolicy | undefined {
  const m = /^([ef]):(\d+):(\d+):([01])$/.exec(text ?? '');
  if (!m) return undefined;
  return { type: m[1] === 'f' ? 'fixed' : 'exponential', delayMs: Number(m[2]), maxDelayMs: Number(m[3]), jitter: m[4] === '1' };
}
