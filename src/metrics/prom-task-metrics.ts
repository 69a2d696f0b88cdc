import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { queueOfTaskId } from '../queue/task-id';
import { HandlerRegistry } from '../task-types/handler-registry';
import { DEFAULT_QUEUE, END_TO_END_SECONDS_BUCKETS, METRIC_PREFIX, MetricsRegistry, TASK_SECONDS_BUCKETS } from './metrics-registry';
import { MeteredTask, TaskMetrics } from './task-metrics';

/** Label value of every type that has no handler here: the type label is a known, small set. */
export const OTHER_TYPE = 'other';

type Child = { inc(value?: number): void };
type HistogramChild = { observe(value: number): void };

/** The children of one (queue, type), made once so that counting allocates nothing. */
interface TypeMetrics {
  created: Child;
  started: Child;
  timedOut: Child;
  completed: Child;
  retried: Child;
  failed: Child;
  duration: HistogramChild;
  queueWait: HistogramChild;
  endToEnd: HistogramChild;
}

/** TaskMetrics on prom-client counters and a histogram, labelled by queue and (folded) type. */
@Injectable()
export class PromTaskMetrics extends TaskMetrics {
  private readonly byType = new Map<string, TypeMetrics>();
  private readonly counters: Record<keyof Omit<TypeMetrics, 'duration' | 'queueWait' | 'endToEnd'>, Counter>;
  private readonly duration: Histogram;
  private readonly queueWait: Histogram;
  private readonly endToEnd: Histogram;
  private readonly recoveredTotal: Counter;
  private readonly deletedTotal: Counter;
  private known?: Set<string>;

  constructor(
    metrics: MetricsRegistry,
    private readonly handlers: HandlerRegistry,
  ) {
    super();
    const registers = [metrics.registry];
    const counter = (name: string, help: string) =>
      new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames: ['queue', 'type'], registers });
    this.counters = {
      created: counter('tasks_created_total', 'Tasks stored (POST /tasks, /tasks/batch); idempotent replays not counted.'),
      started: counter('tasks_started_total', 'Attempts whose handler started.'),
      timedOut: counter('tasks_timed_out_total', 'Attempts stopped at their timeout (also counted as retried or failed).'),
      completed: counter('tasks_completed_total', 'Attempts that completed their task (outcome written).'),
      retried: counter('tasks_retried_total', 'Attempts that failed and were scheduled for another attempt.'),
      failed: counter('tasks_failed_total', 'Attempts that failed their task for good (no retry left, or not retryable).'),
    };
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}task_handler_duration_seconds`,
      help: 'Run time of attempts whose outcome was written, from handler start to its end.',
      labelNames: ['queue', 'type'],
      buckets: TASK_SECONDS_BUCKETS,
      registers,
    });
    this.queueWait = new Histogram({
      name: `${METRIC_PREFIX}task_queue_wait_seconds`,
      help: 'From the time a task was due (created, scheduled run_at, or end of its retry backoff) to its handler start, per attempt.',
      labelNames: ['queue', 'type'],
      buckets: TASK_SECONDS_BUCKETS,
      registers,
    });
    this.endToEnd = new Histogram({
      name: `${METRIC_PREFIX}task_end_to_end_seconds`,
      help: 'From creation to the written final outcome (completed, or failed for good by a worker), retries included.',
      labelNames: ['queue', 'type'],
      buckets: END_TO_END_SECONDS_BUCKETS,
      registers,
    });
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
    return this.byType.get(`${queue}|${type}`) ?? this.children(type, queue);
  }

  /** Known types get their own children (kept); any other type shares 'other' and is not remembered. */
  private children(type: string, queue: string): TypeMetrics {
    this.known ??= new Set(this.handlers.types());
    const label = this.known.has(type) ? type : OTHER_TYPE;
    const key = `${queue}|${label}`;
    let m = this.byType.get(key);
    if (!m) {
      const c = this.counters;
      m = {
        created: c.created.labels(queue, label),
        started: c.started.labels(queue, label),
        timedOut: c.timedOut.labels(queue, label),
        completed: c.completed.labels(queue, label),
        retried: c.retried.labels(queue, label),
        failed: c.failed.labels(queue, label),
        duration: this.duration.labels(queue, label),
        queueWait: this.queueWait.labels(queue, label),
        endToEnd: this.endToEnd.labels(queue, label),
      };
      // Every counter of the type at 0 from its first event on (see the constructor).
      for (const child of [m.created, m.started, m.timedOut, m.completed, m.retried, m.failed]) child.inc(0);
      this.byType.set(key, m);
    }
    return m;
  }
}

/** The queue of a metered task: the one its id names (a task without an id counts in `default`). */
function queueOf(task: MeteredTask): string {
  return task.id === undefined ? DEFAULT_QUEUE : queueOfTaskId(task.id);
}
