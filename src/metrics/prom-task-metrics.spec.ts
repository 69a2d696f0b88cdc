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
    tasks.started('echo');
    expect(await values(registry, 'taskqueue_tasks_created_total')).toEqual({ 'default/echo': 2, [`default/${OTHER_TYPE}`]: 2 });
    expect(await values(registry, 'taskqueue_tasks_started_total')).toEqual({ 'default/echo': 1, [`default/${OTHER_TYPE}`]: 0 });
  });

  it('counts each written outcome once and observes its duration in seconds', async () => {
    const { registry, tasks } = setup();
    tasks.settled('sum', 'complete', 20);
    tasks.settled('sum', 'retry', 30);
    tasks.settled('sum', 'fail', 50);
    expect((await values(registry, 'taskqueue_tasks_completed_total'))['default/sum']).toBe(1);
    expect((await values(registry, 'taskqueue_tasks_retried_total'))['default/sum']).toBe(1);
    expect((await values(registry, 'taskqueue_tasks_failed_total'))['default/sum']).toBe(1);
    const lines = (await registry.getSingleMetricAsString('taskqueue_task_handler_duration_seconds')).split('\n');
    expect(lines).toContain('taskqueue_task_handler_duration_seconds_count{queue="default",type="sum"} 3');
    expect(lines).toContain('taskqueue_task_handler_duration_seconds_sum{queue="default",type="sum"} 0.1');
    expect(lines).toContain('taskqueue_task_handler_duration_seconds_bucket{le="0.025",queue="default",type="sum"} 1');
  });

  it('counts recoveries by outcome and deletions by queue (neither knows the type)', async () => {
    const { registry, tasks } = setup();
    tasks.recovered('stalled');
    tasks.recovered('retry');
    tasks.recovered('retry');
    tasks.deleted();
    expect(await values(registry, 'taskqueue_tasks_recovered_total')).toEqual({ 'default/retry': 2, 'default/failed': 0, 'default/stalled': 1 });
    expect(await values(registry, 'taskqueue_tasks_deleted_total')).toEqual({ 'default/': 1 });
  });
});
