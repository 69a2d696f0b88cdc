import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Gauge } from 'prom-client';
import { Clock, CLOCK, systemClock } from '../common/clock';
import { QueueGauges, QueueGaugesReader } from '../queue/queue-gauges.reader';
import { WorkerRegistry } from '../queue/worker-registry';
import { TASK_STATUSES } from '../queue/task.model';
import { METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

/** A scrape within this long of the last Redis read reuses it: many scrapers cost one read a second. */
export const GAUGE_CACHE_MS = 1000;

/**
 * Gauges read from Redis when scraped (prom-client calls `collect` on each scrape). The read is shared
 * by concurrent scrapes and cached for GAUGE_CACHE_MS. When Redis does not answer, the gauges are left
 * out of that scrape (no stale values) and the rest of /metrics is served.
 */
interface CachedRead<T> {
  at: number;
  read: Promise<T | undefined>;
}

@Injectable()
export class QueueGaugesCollector {
  private cached?: CachedRead<QueueGauges[]>;
  private cachedWorkers?: CachedRead<number>;

  constructor(
    metrics: MetricsRegistry,
    private readonly reader: QueueGaugesReader,
    private readonly workers: WorkerRegistry,
    @InjectPinoLogger(QueueGaugesCollector.name) private readonly logger: PinoLogger,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {
    const registers = [metrics.registry];
    const states: Gauge = new Gauge({
      name: `${METRIC_PREFIX}tasks`,
      help: 'Tasks by state (pending includes scheduled and backing-off tasks), read from Redis at scrape time.',
      labelNames: ['queue', 'state'],
      registers,
      collect: async () => {
        states.reset();
        for (const q of (await this.gauges()) ?? []) {
          for (const state of TASK_STATUSES) states.labels(q.queue, state).set(q.byStatus[state]);
        }
      },
    });
    const oldestDue: Gauge = new Gauge({
      name: `${METRIC_PREFIX}queue_oldest_due_age_seconds`,
      help: 'How long the oldest due task has waited to be picked up (0 when none is due): the queue latency.',
      labelNames: ['queue'],
      registers,
      collect: async () => {
        oldestDue.reset();
        for (const q of (await this.gauges()) ?? []) oldestDue.labels(q.queue).set(q.oldestDueAgeMs / 1000);
      },
    });
    const liveWorkers: Gauge = new Gauge({
      name: `${METRIC_PREFIX}workers`,
      help: 'Live worker processes (heartbeat younger than TASK_LEASE_MS), read from Redis at scrape time.',
      registers,
      collect: async () => {
        liveWorkers.reset();
        const count = await this.workerCount();
        if (count !== undefined) liveWorkers.set(count);
      },
    });
  }

  /** Live worker processes (GET /workers), cached like the queue gauges. */
  private workerCount(): Promise<number | undefined> {
    this.cachedWorkers = this.cachedRead(this.cachedWorkers, async () => (await this.workers.list()).length, 'the live workers');
    return this.cachedWorkers.read;
  }

  private gauges(): Promise<QueueGauges[] | undefined> {
    this.cached = this.cachedRead(this.cached, () => this.reader.read(), 'queue gauges');
    return this.cached.read;
  }

  /** The cached read while younger than GAUGE_CACHE_MS, else a new one; a failed read yields undefined. */
  private cachedRead<T>(cached: CachedRead<T> | undefined, read: () => Promise<T>, what: string): CachedRead<T> {
    const now = this.clock.now();
    if (cached && now - cached.at < GAUGE_CACHE_MS) return cached;
    return {
      at: now,
      read: read().catch((err: unknown) => {
        this.logger.warn({ err }, `metrics: could not read ${what} from Redis; left out of this scrape`);
        return undefined;
      }),
    };
  }
}
