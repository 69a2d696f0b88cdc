import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Gauge } from 'prom-client';
import { Clock, CLOCK, systemClock } from '../common/clock';
import { QueueGauges, QueueGaugesReader } from '../queue/queue-gauges.reader';
import { TASK_STATUSES } from '../queue/task.model';
import { METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

/** A scrape within this long of the last Redis read reuses it: many scrapers cost one read a second. */
export const GAUGE_CACHE_MS = 1000;

/**
 * Gauges read from Redis when scraped (prom-client calls `collect` on each scrape). The read is shared
 * by concurrent scrapes and cached for GAUGE_CACHE_MS. When Redis does not answer, the gauges are left
 * out of that scrape (no stale values) and the rest of /metrics is served.
 */
@Injectable()
export class QueueGaugesCollector {
  private cached?: { at: number; read: Promise<QueueGauges[] | undefined> };

  constructor(
    metrics: MetricsRegistry,
    private readonly reader: QueueGaugesReader,
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
  }

  private gauges(): Promise<QueueGauges[] | undefined> {
    const now = this.clock.now();
    if (!this.cached || now - this.cached.at >= GAUGE_CACHE_MS) {
      this.cached = {
        at: now,
        read: this.reader.read().catch((err: unknown) => {
          this.logger.warn({ err }, 'metrics: could not read queue gauges from Redis; left out of this scrape');
          return undefined;
        }),
      };
    }
    return this.cached.read;
  }
}
