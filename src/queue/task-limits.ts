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
 * validation (a task has 3; the rest would each be reported as "should not exist"). Validating tens of
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
