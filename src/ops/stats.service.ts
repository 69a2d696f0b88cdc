import { Injectable } from '@nestjs/common';
import { QueueAdminRepository } from '../queue/queue-admin.repository';
import { QueueGauges, QueueGaugesReader } from '../queue/queue-gauges.reader';
import { WorkerRegistry } from '../queue/worker-registry';
import { QueueStats, StateCounts, StatsResponse, ThroughputMinute } from './dto/stats.response';

/** Minutes of outcome counters GET /stats shows (throughput) and sums (last_hour). */
export const THROUGHPUT_MINUTES = 60;
const MINUTE_MS = 60_000;

/**
 * GET /stats: the queues' gauges (QueueGaugesReader, as GET /queues and /metrics read them), the
 * per-minute outcome counters settle.lua and recover.lua keep in each queue, the live worker count
 * and Redis' own figures. One script call per queue and per read, all sent at once.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly gauges: QueueGaugesReader,
    private readonly admin: QueueAdminRepository,
    private readonly workers: WorkerRegistry,
  ) {}

  async stats(): Promise<StatsResponse> {
    const [queues, workers, redis] = await Promise.all([this.gauges.read(), this.workers.list(), this.admin.serverInfo()]);
    const counters = await Promise.all(queues.map((q) => this.admin.outcomeCounts(q.queue, THROUGHPUT_MINUTES)));
    const now = Math.max(0, ...counters.map((c) => c.now));
    const current = Math.floor(now / MINUTE_MS);
    const throughput: ThroughputMinute[] = [];
    const byMinute = new Map<number, ThroughputMinute>();
    for (let m = current - THROUGHPUT_MINUTES + 1; m <= current; m += 1) {
      const entry = { minute: new Date(m * MINUTE_MS).toISOString(), completed: 0, failed: 0 };
      throughput.push(entry);
      byMinute.set(m, entry);
    }
    for (const c of counters) {
      for (const { minute, completed, failed } of c.minutes) {
        const entry = byMinute.get(minute);
        if (!entry) continue;
        entry.completed += completed;
        entry.failed += failed;
      }
    }
    const total = (e: ThroughputMinute) => e.completed + e.failed;
    const stats = queues.map(toQueueStats);
    return {
      counts: sumCounts(stats.map((q) => q.counts)),
      queues: stats,
      processed: windows(throughput, total, now),
      failed: windows(throughput, (e) => e.failed, now),
      throughput,
      latency_ms: Math.max(0, ...stats.map((q) => q.latency_ms)),
      workers: workers.length,
      redis: { version: redis.version, used_memory: redis.usedMemory },
    };
  }
}

/** last_minute: the current minute plus the previous one pro rata to the part of it inside the last 60 s. */
function windows(series: ThroughputMinute[], value: (e: ThroughputMinute) => number, now: number): { last_minute: number; last_hour: number } {
  const current = value(series[series.length - 1]);
  const previous = series.length > 1 ? value(series[series.length - 2]) : 0;
  const stillInside = 1 - (now % MINUTE_MS) / MINUTE_MS;
  return {
    last_minute: current + Math.round(previous * stillInside),
    last_hour: series.reduce((sum, e) => sum + value(e), 0),
  };
}

export function toQueueStats(g: QueueGauges): QueueStats {
  return {
    name: g.queue,
    paused: g.paused,
    counts: { pending: g.byStatus.pending, scheduled: g.scheduled, processing: g.byStatus.processing, completed: g.byStatus.completed, failed: g.byStatus.failed },
    latency_ms: g.oldestDueAgeMs,
  };
}

function sumCounts(all: StateCounts[]): StateCounts {
  const sum: StateCounts = { pending: 0, scheduled: 0, processing: 0, completed: 0, failed: 0 };
  for (const c of all) for (const key of Object.keys(sum) as (keyof StateCounts)[]) sum[key] += c[key];
  return sum;
}
