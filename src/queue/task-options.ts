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

/** The backoff part of the task field `opts`: `<e|f>:<delay_ms>:<max_delay_ms>:<0|1>` (lua/lib/task-options.lua backoff_delay). */
export function encodeBackoff(p: BackoffPolicy): string {
  return `${p.type === 'fixed' ? 'f' : 'e'}:${p.delayMs}:${p.maxDelayMs}:${p.jitter ? 1 : 0}`;
}

export function decodeBackoff(text: string | undefined): BackoffPolicy | undefined {
  const m = /^([ef]):(\d+):(\d+):([01])$/.exec(text ?? '');
  if (!m) return undefined;
  return { type: m[1] === 'f' ? 'fixed' : 'exponential', delayMs: Number(m[2]), maxDelayMs: Number(m[3]), jitter: m[4] === '1' };
}

/** What the worker needs of a task's own options. */
export interface TaskOptions {
  timeoutMs?: number;
  backoff?: BackoffPolicy;
}

/**
 * The task field `opts` (written by enqueue.lua, handed out by fetch.lua): `<timeout_ms>|<backoff>`,
 * each part empty when unset. One field for both (and present for a scheduled task too), so that fetch
 * reads one field more per task than before these options existed, not three.
 */
export function decodeTaskOptions(opts: string | undefined): TaskOptions {
  if (!opts) return {};
  const bar = opts.indexOf('|');
  const timeout = bar < 0 ? '' : opts.slice(0, bar);
  const out: TaskOptions = {};
  if (/^\d+$/.test(timeout)) out.timeoutMs = Number(timeout);
  const backoff = decodeBackoff(bar < 0 ? undefined : opts.slice(bar + 1));
  if (backoff) out.backoff = backoff;
  return out;
}
