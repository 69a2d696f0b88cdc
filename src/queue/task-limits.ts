/**
 * Limits of the task model, shared by the API (DTO validation), the worker and the docs. They sit in
 * src/queue beside task.model.ts because every module already depends on the queue and none on another.
 */
export const MAX_RETRY_LIMIT = 25;
export const TYPE_MAX_LENGTH = 64;
export const LIST_LIMIT_MAX = 1000;
export const LIST_LIMIT_DEFAULT = 100;
export const BATCH_MAX_TASKS = 1000;
/**
 * Most properties a task object in a request body may have before it is rejected without field-by-field
 * validation (a task has at most 9; the rest would each be reported as "should not exist"). Validating tens of
 * thousands of unknown properties blocks the event loop for seconds and answers megabytes.
 */
export const TASK_MAX_PROPERTIES = 16;
/**
 * Leases of one task that may expire before its handler ever starts (the worker died with it in its
 * prefetch buffer, a fetch reply was lost) without failing it. Such a lease spends no retry; the stall
 * beyond this many fails the task, so a task that kills its worker before it starts cannot loop forever.
 */
export const MAX_STALLS = 5;
/**
 * Bytes of task hashes one listing page reads before it stops early and hands out a cursor: bounds the
 * time Redis spends on one page and the memory of the reply whatever the payload sizes.
 */
export const LIST_PAGE_MAX_BYTES = 8 * 1024 * 1024;
/**
 * Index entries one listing page filtered by a field it has no index for (priority with a status or
 * type, or priority=normal) examines at most: such a page may hold fewer than `limit` tasks, even none,
 * and still hand out a cursor. Bounds the time Redis spends on one page.
 */
export const LIST_FILTER_SCAN_MAX = 1000;
/** delay_ms at most, and how far ahead run_at may be: 365 days. */
export const SCHEDULE_MAX_AHEAD_MS = 365 * 24 * 3600 * 1000;
/** timeout_ms range: 1 ms to 24 h. */
export const TASK_TIMEOUT_MAX_MS = 24 * 3600 * 1000;
/** backoff.delay_ms range (as RETRY_BASE_DELAY_MS): 1 ms to 1 h. */
export const BACKOFF_DELAY_MAX_MS = 3_600_000;
/** backoff.max_delay_ms range (as RETRY_MAX_DELAY_MS): 1 ms to 7 days. */
export const BACKOFF_MAX_DELAY_MAX_MS = 604_800_000;
/** An idempotency key: 1 to 255 printable ASCII characters (space to ~). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
