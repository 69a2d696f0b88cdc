import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { Clock, CLOCK } from '../common/clock';
import { sleep } from '../common/sleep';
import { QueueUnavailableError } from '../queue/queue-errors';
import { QueueRepository, Settlement, SettleResult } from '../queue/queue.repository';

interface PendingWrite {
  settlement: Settlement;
  giveUpAt: number;
  resolve: (result: SettleResult | 'unwritten') => void;
}

const MAX_BATCH = 500;
const RETRY_PAUSE_MS = 250;

/**
 * Writes attempt outcomes to Redis in batches: at most one settle script call is in flight; what
 * arrives meanwhile goes in the next call. An idle worker's outcome is written at once (one tick
 * later), a busy worker's hundreds per round trip. If Redis is away, a batch is retried until each
 * outcome's lease period has passed; after that the lease has expired anyway and the recoverer runs
 * the task again (at least once, never lost).
 */
@Injectable()
export class OutcomeWriter {
  private queued: PendingWrite[] = [];
  private flushing?: Promise<void>;

  constructor(
    private readonly queue: QueueRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  write(settlement: Settlement): Promise<SettleResult | 'unwritten'> {
    return new Promise((resolve) => {
      this.queued.push({ settlement, giveUpAt: this.clock.now() + this.config.worker.leaseMs, resolve });
      this.flushing ??= this.flushAll();
    });
  }

  /** Resolves once everything written so far is settled (shutdown waits for it). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushAll(): Promise<void> {
    // Let the outcomes of the same tick join this batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, MAX_BATCH);
        try {
          const results = await this.queue.settle(
            batch.map((w) => w.settlement),
            this.clock.now(),
          );
          batch.forEach((w, i) => w.resolve(results[i]));
        } catch (err) {
          const now = this.clock.now();
          const retryable = err instanceof QueueUnavailableError;
          const again = batch.filter((w) => retryable && now < w.giveUpAt);
          for (const w of batch) if (!again.includes(w)) w.resolve('unwritten');
          this.queued.unshift(...again);
          if (again.length > 0) await sleep(RETRY_PAUSE_MS);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
