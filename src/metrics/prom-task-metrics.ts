import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { queueOfTaskId } from '../queue/task-id';
import { HandlerRegistry } from '../task-types/handler-registry';
import { DEFAULT_QUEUE, END_TO_END_SECONDS_BUCKETS, METRIC_PREFIX, MetricsRegistry, TASK_SECONDS_BUCKETS } from './metrics-registry';
import { BufferedCount, CountedHistogram, flushOnRead } from './counted-metrics';
import { MeteredTask, TaskMetrics } from './task-metrics';

/** Label value of every type that has no handler here: the type label is a known, small set. */
export const OTHER_TYPE = 'other';

type Child = { inc(value?: number): void };
type HistogramChild = { observe(value: number): void };
type CounterName = 'created' | 'started' | 'timedOut' | 'completed' | 'retried' | 'failed';

/**
 * The children of one (queue, type), made once so that counting allocates nothing: the counters count
 * in numbers added to prom-client's series when /metrics is read, the histograms are CountedHistograms.
 */
interface TypeMetrics {
  created: BufferedCount;
  started: BufferedCount;
  timedOut: BufferedCount;
  completed: BufferedCount;
  retried: BufferedCount;
  failed: BufferedCount;
  duration: HistogramChild;
  queueWait: HistogramChild;
  endToEnd: HistogramChild;
}

/** TaskMetrics on prom-client counters and a histogram, labelled by queue and (folded) type. */
@Injectable()
export class PromTaskMetrics extends TaskMetrics {
  private readonly byType = new Map<string, TypeMetrics>();
  /** queue -> type -> children, for the per-task calls (no key string built per call). */
  private readonly byQueue = new Map<string, Map<string, TypeMetrics>>();
  private readonly counters: Record<CounterName, Counter>;
  private readonly duration: CountedHistogram;
  private readonly queueWait: CountedHistogram;
  private readonly endToEnd: CountedHistogram;
  private readonly recoveredTotal: Counter;
  private readonly deletedTotal: Counter;
  private known?: Set<string>;

  constructor(
    metrics: MetricsRegistry,
    private readonly handlers: HandlerRegistry,
  ) {
    super();
    const registers = [metrics.registry];
    const counter = (name: string, help: string) => {
      const c = new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames: ['queue', 'type'], registers });
      flushOnRead(c, () => this.flushCounts());
      return c;
    };
    this.counters = {
      created: counter('tasks_created_total', 'Tasks stored (POST /tasks, /tasks/batch); idempotent replays not counted.'),
      started: counter('tasks_started_total', 'Attempts whose handler started.'),
      timedOut: counter('tasks_timed_out_total', 'Attempts stopped at their timeout (also counted as retried or failed).'),
      completed: counter('tasks_completed_total', 'Attempts that completed their task (outcome written).'),
      retried: counter('tasks_retried_total', 'Attempts that failed and were scheduled for another attempt.'),
      failed: counter('tasks_failed_total', 'Attempts that failed their task for good (no retry left, or not retryable).'),
    };
    this.duration = new CountedHistogram(
      `${METRIC_PREFIX}task_handler_duration_seconds`,
      'Run time of attempts whose outcome was written, from handler start to its end.',
      ['queue', 'type'],
      TASK_SECONDS_BUCKETS,
      metrics.registry,
    );
    this.queueWait = new CountedHistogram(
      `${METRIC_PREFIX}task_queue_wait_seconds`,
      'From the time a task was due (created, scheduled run_at, or end of its retry backoff) to its handler start, per attempt.',
      ['queue', 'type'],
      TASK_SECONDS_BUCKETS,
      metrics.registry,
    );
    this.endToEnd = new CountedHistogram(
      `${METRIC_PREFIX}task_end_to_end_seconds`,
      'From creation to the written final outcome (completed, or failed for good by a worker), retries included.',
      ['queue', 'type'],
      END_TO_END_SECONDS_BUCKETS,
      metrics.registry,
    );
    this.recoveredTotal = new Counter({
      name: `${METRIC_PREFIX}tasks_recovered_total`,
      help: 'Expired leases recovered by the maintenance loop, by what became of the task (retry, failed, stalled = requeued, never started).',
      labelNames: ['queue', 'outcome'],
      registers,
    });
    this.deletedTotal = new Counter({
      name: `${METRIC_PREFIX}tasks_deleted_total`,
      help: 'Tasks deleted through DELETE /tasks/{id} and DELETE /tasks?status=.',
      labelNames: ['queue'],
      registers,
    });
    // Series exported at 0 from the start, so that rate() sees their first increment.
    this.deletedTotal.labels(DEFAULT_QUEUE).inc(0);
    for (const outcome of ['retry', 'failed', 'stalled']) this.recoveredTotal.labels(DEFAULT_QUEUE, outcome).inc(0);
  }

  created(type: string, count: number, queue = DEFAULT_QUEUE): void {
    this.of(type, queue).created.inc(count);
  }

  started(task: MeteredTask): void {
    const m = this.of(task.type, queueOf(task));
    m.started.inc();
    if (task.dueForMs !== undefined && task.leasedAt !== undefined) m.queueWait.observe((task.dueForMs + Date.now() - task.leasedAt) / 1000);
  }

  timedOut(type: string, queue = DEFAULT_QUEUE): void {
    this.of(type, queue).timedOut.inc();
  }

  settled(task: MeteredTask, outcome: 'complete' | 'retry' | 'fail', durationMs: number): void {
    const m = this.of(task.type, queueOf(task));
    if (outcome === 'complete') m.completed.inc();
    else if (outcome === 'retry') m.retried.inc();
    else m.failed.inc();
    m.duration.observe(durationMs / 1000);
    if (outcome !== 'retry' && task.ageMs !== undefined && task.leasedAt !== undefined) {
      m.endToEnd.observe((task.ageMs + Date.now() - task.leasedAt) / 1000);
    }
  }

  recovered(outcome: 'retry' | 'failed' | 'stalled', queue = DEFAULT_QUEUE): void {
    this.recoveredTotal.labels(queue, outcome).inc();
  }

  deleted(queue: string, count = 1): void {
    this.deletedTotal.labels(queue).inc(count);
  }

  private of(type: string, queue: string): TypeMetrics {
    return this.byQueue.get(queue)?.get(type) ?? this.children(type, queue);
  }

  /** Adds what the counters counted since the last read to their prom-client series. */
  private flushCounts(): void {
    for (const m of this.byType.values()) {
      m.created.flush();
      m.started.flush();
      m.timedOut.flush();
      m.completed.flush();
      m.retried.flush();
      m.failed.flush();
    }
  }

  /** Known types get their own children (kept); any other type shares 'other' and is not remembered. */
  private children(type: string, queue: string): TypeMetrics {
    this.known ??= new Set(this.handlers.types());
    const label = this.known.has(type) ? type : OTHER_TYPE;
    const key = `${queue}|${label}`;
    let m = this.byType.get(key);
    if (!m) {
      const c = this.counters;
      const child = (name: CounterName): BufferedCount => {
        const promChild: Child = c[name].labels(queue, label);
        // Every counter of the type at 0 from its first event on (see the constructor).
        promChild.inc(0);
        return new BufferedCount(promChild);
      };
      m = {
        created: child('created'),
        started: child('started'),
        timedOut: child('timedOut'),
        completed: child('completed'),
        retried: child('retried'),
        failed: child('failed'),
        duration: this.duration.labels(queue, label),
        queueWait: this.queueWait.labels(queue, label),
        endToEnd: this.endToEnd.labels(queue, label),
      };
      this.byType.set(key, m);
    }
    // Remembered by the type asked for only when it is known (any other type is not remembered).
    if (label === type) {
      let types = this.byQueue.get(queue);
      if (!types) this.byQueue.set(queue, (types = new Map()));
      types.set(type, m);
    }
    return m;
  }
}

/** The queue of a metered task: the one its id names (a task without an id counts in `default`). */
function queueOf(task: MeteredTask): string {
  return task.id === undefined ? DEFAULT_QUEUE : queueOfTaskId(task.id);
}
