import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { Clock, CLOCK } from '../common/clock';
import { sleep } from '../common/sleep';
import { QueueUnavailableError } from '../queue/queue-errors';
import { QueueRepository, Settlement, SettleResult } from '../queue/queue.repository';

interface PendingWrite {
  settlement: Settlement;
  bytes: number;
  giveUpAt: number;
  resolve: (result: SettleResult | 'unwritten') => void;
}

/** One settlement of a script call and the writes it answers (two when a start and its completion were fused). */
interface BatchEntry {
  settlement: Settlement;
  writes: PendingWrite[];
}

/** Most settlements in one script call. */
export const MAX_BATCH = 500;
/** Most result/error bytes in one script call (a batch always takes at least one settlement). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const RETRY_PAUSE_MS = 250;

/**
 * Writes attempt settlements (handler starts and outcomes) to Redis in batches: at most one settle
 * script call is in flight; what arrives meanwhile goes in the next call. An idle worker's write
 * goes out at once (one tick later), a busy worker's hundreds per round trip. If Redis is away, a
 * batch is retried until each write's give-up time: by default its lease period, after which the
 * lease has expired anyway and the recoverer runs the task again (at least once, never lost); on
 * shutdown, the shutdown deadline (`cutOff`).
 */
@Injectable()
export class OutcomeWriter {
  private queued: PendingWrite[] = [];
  private flushing?: Promise<void>;
  private deadline = Infinity;
  private readonly wakeRetry = new AbortController();

  constructor(
    @Inject(QueueRepository) private readonly queue: Pick<QueueRepository, 'settle'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  write(settlement: Settlement): Promise<SettleResult | 'unwritten'> {
    return new Promise((resolve) => this.submit(settlement, resolve));
  }

  /** `write` without a promise: `written` is called once with the result, never from within this call. */
  submit(settlement: Settlement, written: (result: SettleResult | 'unwritten') => void): void {
    const giveUpAt = Math.min(this.clock.now() + this.config.worker.leaseMs, this.deadline);
    this.queued.push({ settlement, bytes: settlement.text.length, giveUpAt, resolve: written });
    this.flushing ??= this.flushAll();
  }

  /** From now on nothing is retried past `at`; a retry pause in progress ends at once. */
  cutOff(at: number): void {
    this.deadline = Math.min(this.deadline, at);
    for (const w of this.queued) w.giveUpAt = Math.min(w.giveUpAt, at);
    this.wakeRetry.abort();
  }

  /** Resolves once everything written so far is settled (or given up). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private nextBatch(): PendingWrite[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queued.length && n < MAX_BATCH) {
      bytes += this.queued[n].bytes;
      if (n > 0 && bytes > MAX_BATCH_BYTES) break;
      n += 1;
    }
    return this.queued.splice(0, n);
  }

  private async flushAll(): Promise<void> {
    // Let the writes of the same tick join this batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queued.length > 0) {
        const batch = this.nextBatch();
        try {
          const entries = fuseStarts(batch);
          const results = await this.queue.settle(entries.map((e) => e.settlement));
          for (let i = 0; i < entries.length; i += 1) for (const w of entries[i].writes) answer(w, results[i]);
        } catch (err) {
          const now = this.clock.now();
          const retryable = err instanceof QueueUnavailableError;
          const again = batch.filter((w) => retryable && now < w.giveUpAt);
          for (const w of batch) if (!again.includes(w)) answer(w, 'unwritten');
          this.queued.unshift(...again);
          if (again.length > 0 && !this.wakeRetry.signal.aborted) await sleep(RETRY_PAUSE_MS, this.wakeRetry.signal);
          else if (again.length > 0) await sleep(Math.min(RETRY_PAUSE_MS, Math.max(0, this.deadline - now)));
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}

/**
 * A 'start' and the 'complete' of the same attempt in one batch (a handler that finished before its
 * start was written: most short tasks) become one 'run' settlement at the start's place, which the
 * script reads and fences once; both writes get its result. Everything else goes as it is, in order.
 */
function fuseStarts(batch: PendingWrite[]): BatchEntry[] {
  const entries: BatchEntry[] = [];
  let starts: Map<string, BatchEntry> | undefined;
  for (const w of batch) {
    const s = w.settlement;
    if (s.mode === 'complete' && starts) {
      const start = starts.get(s.lease.id);
      if (start && start.settlement.lease.token === s.lease.token) {
        starts.delete(s.lease.id);
        start.settlement = { lease: s.lease, mode: 'run', text: s.text, workerId: start.settlement.workerId };
        start.writes.push(w);
        continue;
      }
    }
    const entry = { settlement: s, writes: [w] };
    if (s.mode === 'start') (starts ??= new Map()).set(s.lease.id, entry);
    entries.push(entry);
  }
  return entries;
}

/** Gives a write its result; what its callback throws does not keep the others from theirs (it is thrown on its own). */
function answer(w: PendingWrite, result: SettleResult | 'unwritten'): void {
  try {
    w.resolve(result);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
