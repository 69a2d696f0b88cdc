import { HandlerRegistry } from '../task-types/handler-registry';
import { MetricsRegistry } from './metrics-registry';
import { OTHER_TYPE, PromTaskMetrics } from './prom-task-metrics';

function setup() {
  const metrics = new MetricsRegistry();
  const handlers = { types: () => ['echo', 'sum'] } as unknown as HandlerRegistry;
  return { registry: metrics.registry, tasks: new PromTaskMetrics(metrics, handlers) };
}

async function values(registry: MetricsRegistry['registry'], name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.queue}/${v.labels.type ?? v.labels.outcome ?? ''}`, v.value]));
}

describe('PromTaskMetrics', () => {
  // A series exists at 0 from the first event of its type on: rate() sees its first increment.
  it('labels registered types by name and folds every other type into "other"', async () => {
    const { registry, tasks } = setup();
    tasks.created('echo', 2);
    tasks.created('not-registered', 1);
    tasks.created('another-one', 1);
    tasks.started({ type: 'echo' });
    expect(await values(registry, 'taskqueue_tasks_created_total')).toEqual({ 'default/echo': 2, [`default/${OTHER_TYPE}`]: 2 });
    expect(await values(registry, 'taskqueue_tasks_started_total')).toEqual({ 'default/echo': 1, [`default/${OTHER_TYPE}`]: 0 });
  });

  it('counts each written outcome once and observes its duration in seconds', async () => {
    const { registry, tasks } = setup();
    tasks.settled({ type: 'sum' }, 'complete', 20);
    tasks.settled({ type: 'sum' }, 'retry', 30);
    tasks.settled({ type: 'sum' }, 'fail', 50);
    expect((await values(registry, 'taskqueue_tasks_completed_total'))['default/sum']).toBe(1);
    expect((await values(registry, 'taskqueue_tasks_retried_total'))['default/sum']).toBe(1);
    expect((await values(registry, 'taskqueue_tasks_failed_total'))['default/sum']).toBe(1);
    const lines = (await registry.getSingleMetricAsString('taskqueue_task_handler_duration_seconds')).split('\n');
    expect(lines).toContain('taskqueue_task_handler_duration_seconds_count{queue="default",type="sum"} 3');
    expect(lines).toContain('taskqueue_task_handler_duration_seconds_sum{queue="default",type="sum"} 0.1');
    expect(lines).toContain('taskqueue_task_handler_duration_seconds_bucket{le="0.025",queue="default",type="sum"} 1');
  });

  it('observes the wait since due at start, and the age at a final outcome only (not at a retry)', async () => {
    const { registry, tasks } = setup();
    // Leased 40 ms after it was due and 100 ms after its creation, by Redis' clock.
    const task = { type: 'echo', dueForMs: 40, ageMs: 100, leasedAt: Date.now() };
    tasks.started(task);
    tasks.settled(task, 'retry', 1);
    tasks.started(task);
    tasks.settled(task, 'complete', 1);
    const wait = (await registry.getSingleMetricAsString('taskqueue_task_queue_wait_seconds')).split('\n');
    expect(wait).toContain('taskqueue_task_queue_wait_seconds_count{queue="default",type="echo"} 2');
    // At least the 40 ms it was due when leased: none in the buckets below.
    expect(wait).toContain('taskqueue_task_queue_wait_seconds_bucket{le="0.025",queue="default",type="echo"} 0');
    const e2e = (await registry.getSingleMetricAsString('taskqueue_task_end_to_end_seconds')).split('\n');
    expect(e2e).toContain('taskqueue_task_end_to_end_seconds_count{queue="default",type="echo"} 1');
    expect(e2e).toContain('taskqueue_task_end_to_end_seconds_bucket{le="0.05",queue="default",type="echo"} 0');
  });

  it('observes no wait or age for a lease without fetch times (built by hand)', async () => {
    const { registry, tasks } = setup();
    tasks.started({ type: 'echo' });
    tasks.settled({ type: 'echo' }, 'fail', 1);
    expect(await registry.getSingleMetricAsString('taskqueue_task_queue_wait_seconds')).not.toContain('_count');
    expect(await registry.getSingleMetricAsString('taskqueue_task_end_to_end_seconds')).not.toContain('_count');
  });

  it('counts recoveries by outcome and deletions by queue (neither knows the type)', async () => {
    const { registry, tasks } = setup();
    tasks.recovered('stalled');
    tasks.recovered('retry');
    tasks.recovered('retry');
    tasks.deleted('default');
    tasks.deleted('emails', 3);
    expect(await values(registry, 'taskqueue_tasks_recovered_total')).toEqual({ 'default/retry': 2, 'default/failed': 0, 'default/stalled': 1 });
    expect(await values(registry, 'taskqueue_tasks_deleted_total')).toEqual({ 'default/': 1, 'emails/': 3 });
  });
});
