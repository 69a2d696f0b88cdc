import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { Scrape } from './support/prometheus';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

describe('GET /metrics', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('metrics');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', FLAKY_FAILURE_RATE: '1', RETRY_BASE_DELAY_MS: '10' });
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  async function scrape(): Promise<Scrape> {
    const res = await request(t.http).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    return new Scrape(res.text);
  }

  const status = async (id: string) => (await request(t.http).get(`/tasks/${id}`)).body.status as string | undefined;

  it('counts tasks as they are created, run, retried and finished, and shows them by state', async () => {
    const before = await scrape();
    const echo = { queue: 'default', type: 'echo' };
    const flaky = { queue: 'default', type: 'flaky' };

    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await request(t.http).post('/tasks').send({ type: 'echo', payload: `m${i}` }).expect(201)).body.id);
    const failing = (await request(t.http).post('/tasks').send({ type: 'flaky', max_retry: 1 }).expect(201)).body.id as string;
    for (const id of ids) await waitFor(async () => ((await status(id)) === 'completed' ? true : undefined));
    await waitFor(async () => ((await status(failing)) === 'failed' ? true : undefined));

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(moved('taskqueue_tasks_created_total', echo)).toBe(3);
    expect(moved('taskqueue_tasks_started_total', echo)).toBe(3);
    expect(moved('taskqueue_tasks_completed_total', echo)).toBe(3);
    expect(moved('taskqueue_tasks_created_total', flaky)).toBe(1);
    expect(moved('taskqueue_tasks_started_total', flaky)).toBe(2);
    expect(moved('taskqueue_tasks_retried_total', flaky)).toBe(1);
    expect(moved('taskqueue_tasks_failed_total', flaky)).toBe(1);
    expect(moved('taskqueue_tasks_completed_total', flaky)).toBe(0);
    expect(after.count('taskqueue_task_handler_duration_seconds', echo) - before.count('taskqueue_task_handler_duration_seconds', echo)).toBe(3);
    expect(after.families.get('taskqueue_task_handler_duration_seconds')?.type).toBe('HISTOGRAM');
    const observed = (name: string, labels: Record<string, string>) => after.count(name, labels) - before.count(name, labels);
    // Every attempt waited for a worker; only final outcomes end a task (the flaky task's retry does not).
    expect(observed('taskqueue_task_queue_wait_seconds', echo)).toBe(3);
    expect(observed('taskqueue_task_queue_wait_seconds', flaky)).toBe(2);
    expect(observed('taskqueue_task_end_to_end_seconds', echo)).toBe(3);
    expect(observed('taskqueue_task_end_to_end_seconds', flaky)).toBe(1);

    // The state gauges are read from Redis (cached for a second): this suite's queue holds exactly these.
    const states = await waitFor(async () => {
      const s = await scrape();
      return s.value('taskqueue_tasks', { queue: 'default', state: 'completed' }) === 3 ? s : undefined;
    });
    expect(states.value('taskqueue_tasks', { queue: 'default', state: 'failed' })).toBe(1);
    expect(states.value('taskqueue_tasks', { queue: 'default', state: 'pending' })).toBe(0);
    expect(states.value('taskqueue_tasks', { queue: 'default', state: 'processing' })).toBe(0);
    expect(states.samples('taskqueue_queue_oldest_due_age_seconds', { queue: 'default' })).toHaveLength(1);
  });

  it('shows a scheduled task as pending, and a deletion', async () => {
    const before = await scrape();
    const { body } = await request(t.http).post('/tasks').send({ type: 'echo', delay_ms: 600_000 }).expect(201);
    const pending = await waitFor(async () => {
      const s = await scrape();
      return s.value('taskqueue_tasks', { state: 'pending' }) === 1 ? s : undefined;
    });
    // Not due for ten minutes: nothing is late.
    expect(pending.value('taskqueue_queue_oldest_due_age_seconds', { queue: 'default' })).toBe(0);
    await request(t.http).delete(`/tasks/${body.id}`).expect(204);
    const after = await scrape();
    expect(after.value('taskqueue_tasks_deleted_total') - before.value('taskqueue_tasks_deleted_total')).toBe(1);
  });

  it('counts HTTP requests by route template and status, never by raw URL', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await request(t.http).get(`/tasks/${missing}`).expect(404);
    await request(t.http).get('/no/such/path').expect(404);
    const s = await scrape();
    expect(s.value('taskqueue_http_requests_total', { method: 'GET', route: '/tasks/:id', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(s.value('taskqueue_http_requests_total', { method: 'POST', route: '/tasks', status: '201' })).toBeGreaterThanOrEqual(1);
    // A path no route serves is counted under the catch-all's template (Nest's not-found route), not its URL.
    const unmatched = s.samples('taskqueue_http_requests_total', { method: 'GET', status: '404' }).filter((m) => m.labels?.route !== '/tasks/:id');
    expect(unmatched.length).toBeGreaterThanOrEqual(1);
    expect(s.count('taskqueue_http_request_duration_seconds', { route: '/tasks/:id' })).toBeGreaterThanOrEqual(1);
    expect(s.text).not.toContain(missing);
    expect(s.text).not.toContain('/no/such/path');
    // Default Node process metrics, with the same prefix.
    expect(s.families.has('taskqueue_process_cpu_seconds_total')).toBe(true);
    expect(s.families.has('taskqueue_nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('serves every metric the Grafana dashboard queries (deploy/grafana)', async () => {
    const dashboard = readFileSync(join(__dirname, '..', 'deploy', 'grafana', 'taskqueue-dashboard.json'), 'utf8');
    const queried = [...new Set(dashboard.match(/taskqueue_\w+/g))];
    expect(queried.length).toBeGreaterThan(10);
    const s = await scrape();
    const missing = queried.filter((name) => !s.families.has(name) && !s.families.has(name.replace(/_(bucket|count|sum)$/, '')));
    expect(missing).toEqual([]);
  });
});
