import { mathRandom, RandomSource } from '../../common/random';
import { BackoffPolicy } from '../task-options';
import { RetryStrategy } from './retry-strategy';

/**
 * The retry delays. Without a task policy: `base * 2^retries` (1 s, 2 s, 4 s, ... with the default
 * RETRY_BASE_DELAY_MS), capped at RETRY_MAX_DELAY_MS so a task with max_retry 25 does not wait for
 * months; deterministic, the delays the original promised. With a task's own policy: `delayMs * 2^retries`
 * (exponential) or `delayMs` (fixed), capped at its `maxDelayMs`, and with `jitter` a uniform draw
 * between half of that and all of it (never longer than the cap), from the injected randomness.
 */
export class BackoffRetryStrategy implements RetryStrategy {
  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
    private readonly random: RandomSource = mathRandom,
  ) {}

  delayMs(retriesSpent: number, policy?: BackoffPolicy): number {
    const n = Math.max(0, Math.floor(retriesSpent));
    if (!policy) return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    const raw = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** n;
    const capped = Math.min(raw, policy.maxDelayMs);
    if (!policy.jitter) return capped;
    return Math.round(capped * (0.5 + 0.5 * this.random.next()));
  }
}
