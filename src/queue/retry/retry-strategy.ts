import { BackoffPolicy } from '../task-options';

/** Decides how long a failed task waits before its next attempt. Bound under RETRY_STRATEGY. */
export interface RetryStrategy {
  /**
   * Delay in ms before the next attempt, given the retries already spent (0 for the first retry) and
   * the task's own backoff policy, if it has one (else the configured default).
   */
  delayMs(retriesSpent: number, policy?: BackoffPolicy): number;
}

export const RETRY_STRATEGY = Symbol('RETRY_STRATEGY');
