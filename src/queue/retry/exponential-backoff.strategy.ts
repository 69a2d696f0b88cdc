import { RetryStrategy } from './retry-strategy';

/**
 * `base * 2^retries` (1s, 2s, 4s, ... with the default base), capped at `maxDelayMs` so a task with
 * max_retry 25 does not wait for months. Deterministic: no jitter, the delays the original promised.
 */
export class ExponentialBackoffStrategy implements RetryStrategy {
  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  delayMs(retriesSpent: number): number {
    const n = Math.max(0, Math.floor(retriesSpent));
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }
}
