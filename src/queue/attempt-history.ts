/**
 * How one attempt of a task ended, as kept in its history (lua/lib/common.lua history_add):
 * - completed: the handler returned; the task is completed.
 * - retry: the handler failed (threw or was rejected) and a retry was scheduled.
 * - failed: the handler failed and no retry was left (or it threw NonRetryableError); the task failed.
 * - timeout: the handler ran past its time limit; retried or failed like any failure (see the task's status).
 * - lost: the lease expired (the worker died, froze or lost Redis) and the recoverer ended the attempt:
 *   retried with backoff if the handler had started, back to pending without spending a retry if not.
 * - requeued: handed back without spending a retry (shutdown, or leased but never started by a stopping worker).
 */
export const ATTEMPT_OUTCOMES = ['completed', 'retry', 'failed', 'timeout', 'lost', 'requeued'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/**
 * Most attempts a task's history keeps (the newest); mirrors HISTORY_MAX in lua/lib/common.lua. The
 * last ended attempt is kept in the task hash (`h_*` fields, no extra write for a task that runs
 * once); earlier ones in the list `t:<id>:h`.
 */
export const HISTORY_MAX = 10;
/** Most bytes of error text an entry keeps; mirrors HISTORY_ERROR_MAX in lua/lib/common.lua. */
export const HISTORY_ERROR_MAX_BYTES = 1024;

/** One ended attempt, times in epoch ms (Redis' clock). */
export interface AttemptRecord {
  /** The attempt number (the lease token), as in the task's `attempts`. */
  attempt: number;
  outcome: AttemptOutcome;
  /** Undefined when the attempt's handler never started (leased, then handed back or lost). */
  startedAt?: number;
  endedAt: number;
  /** The worker slot that ran it (`<host>-<pid>/<slot>`); undefined when the handler never started. */
  workerId?: string;
  error?: string;
}

/**
 * Parses one stored entry, `attempt|outcome|started_at|ended_at|worker|error`: the first five fields
 * hold no `|` (numbers, an outcome name, a worker id from a host name), the error is the rest.
 */
export function parseAttemptEntry(entry: string): AttemptRecord | undefined {
  const fields: string[] = [];
  let from = 0;
  for (let i = 0; i < 5; i += 1) {
    const bar = entry.indexOf('|', from);
    if (bar < 0) return undefined;
    fields.push(entry.slice(from, bar));
    from = bar + 1;
  }
  const [attempt, outcome, startedAt, endedAt, workerId] = fields;
  if (!(ATTEMPT_OUTCOMES as readonly string[]).includes(outcome)) return undefined;
  const error = entry.slice(from);
  return {
    attempt: Number(attempt),
    outcome: outcome as AttemptOutcome,
    startedAt: startedAt === '' ? undefined : Number(startedAt),
    endedAt: Number(endedAt),
    workerId: workerId === '' ? undefined : workerId,
    error: error === '' ? undefined : error,
  };
}

/**
 * The last ended attempt, from the task hash: h_attempt ('' = none), h_outcome, h_ended_at, h_error
 * ('=' for the task's own error field, written by the same transition); its start time and worker
 * are the task's started_at and worker when `started` is that attempt (lua/lib/common.lua). A
 * completed task without h_attempt (the layout since tasks stopped storing it) ended with the
 * attempt that completed it: attempt = attempts, ended at updated_at, no error.
 */
export function lastAttemptFromHash(h: Record<string, string>): AttemptRecord | undefined {
  if (!h.h_attempt && h.status === 'completed' && h.attempts) return completingAttempt(h);
  if (!h.h_attempt || !(ATTEMPT_OUTCOMES as readonly string[]).includes(h.h_outcome)) return undefined;
  const error = h.h_error === '=' ? utf8Prefix(h.error ?? '', HISTORY_ERROR_MAX_BYTES) : h.h_error;
  const ran = h.started === h.h_attempt;
  return {
    attempt: Number(h.h_attempt),
    outcome: h.h_outcome as AttemptOutcome,
    startedAt: ran && h.started_at ? Number(h.started_at) : undefined,
    endedAt: Number(h.h_ended_at),
    workerId: (ran && h.worker) || undefined,
    error: error || undefined,
  };
}

/** The attempt that completed a task, read from the task itself (lua/lib/common.lua finish drops h_*). */
function completingAttempt(h: Record<string, string>): AttemptRecord {
  const ran = h.started === h.attempts;
  return {
    attempt: Number(h.attempts),
    outcome: 'completed',
    startedAt: ran && h.started_at ? Number(h.started_at) : undefined,
    endedAt: Number(h.updated_at),
    workerId: (ran && h.worker) || undefined,
    error: undefined,
  };
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a whole character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  // A string of n UTF-16 units has at most 3n UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let cut = maxBytes;
  // Back over continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut).toString('utf8');
}

/**
 * A worker id as stored: `|` separates the fields of an entry, so it may not appear in one, and a tab
 * separates the fields of a settle call (settle.lua). Called per settlement: most ids hold neither.
 */
export function storableWorkerId(workerId: string | undefined): string {
  const id = workerId ?? '';
  return id.indexOf('|') < 0 && id.indexOf('\t') < 0 ? id : id.replace(/[|\t]/g, '_');
}
