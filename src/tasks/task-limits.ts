/** Limits of the public API, shared by DTO validation, the worker and the docs. */
export const MAX_RETRY_LIMIT = 25;
export const TYPE_MAX_LENGTH = 64;
export const LIST_LIMIT_MAX = 1000;
export const LIST_LIMIT_DEFAULT = 100;
export const BATCH_MAX_TASKS = 1000;
