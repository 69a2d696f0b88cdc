import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TaskEventBus } from '../src/queue/task-event-bus';
import { TaskEventStream } from '../src/tasks/task-event-stream';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { EventStreamClient, openEventStream } from './support/sse';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** GET /tasks/{id}/events: the first event is the current state, then one per change, ending after the last. */
describe('GET /tasks/{id}/events (Server-Sent Events)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('sse');
  const env = {
    QUEUE_PREFIX: prefix,
    SLOW_TASK_MS: '300',
    FLAKY_FAILURE_RATE: '1',
    RETRY_BASE_DELAY_MS: '100',
    WORKER_COUNT: '1',
  };
  // API only: a task stays pending until a test starts a worker.
  let api: TestApp;
  let base: string;
  let worker: TestApp | undefined;
  const streams: EventStreamClient[] = [];

  beforeAll(async () => {
    api = await createTestApp({ ...env, APP_ROLE: 'api' });
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await worker?.close();
    worker = undefined;
  });
  afterAll(async () => {
    await api.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const create = async (body: object) => (await request(api.http).post('/tasks').send(body).expect(201)).body.id as string;
  const open = async (id: string) => {
    const s = await openEventStream(`${base}/tasks/${id}/events`);
    streams.push(s);
    return s;
  };
  const parsed = (s: EventStreamClient) => s.events.map((e) => ({ event: e.event, task: JSON.parse(e.data) }));

  it('pending -> processing -> completed, then the stream ends', async () => {
    const id = await create({ type: 'slow' });
    const s = await open(id);
    expect(s.response.statusCode).toBe(200);
    expect(s.response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.response.headers['cache-control']).toMatch(/no-cache/);
    await s.waitForEvents(1);
    worker = await createTestApp({ ...env, APP_ROLE: 'worker' });
    await s.ended;

    const events = parsed(s);
    expect(events.map((e) => e.event)).toEqual(['pending', 'processing', 'completed']);
    expect(events[0].task).toMatchObject({ id, status: 'pending', attempts: 0 });
    expect(events[1].task).toMatchObject({ id, attempts: 1 });
    expect(events[2].task).toMatchObject({ id, status: 'completed', result: 'completed after 0.3 seconds' });
    expect(events[2].task.history).toEqual([expect.objectContaining({ attempt: 1, outcome: 'completed' })]);
    expect(api.app.get(TaskEventStream).openStreams).toBe(0);
    expect(api.app.get(TaskEventBus).watchedTasks).toBe(0);
  });

  it('a flaky task: retrying (with the error and next run_at) between its attempts, failed at the end', async () => {
    const id = await create({ type: 'flaky', max_retry: 1 });
    const s = await open(id);
    await s.waitForEvents(1);
    worker = await createTestApp({ ...env, APP_ROLE: 'worker' });
    await s.ended;

    const events = parsed(s);
    expect(events.map((e) => e.event)).toEqual(['pending', 'processing', 'retrying', 'processing', 'failed']);
    // Each event agrees with what it announces, in its full or short form.
    expect(events[1].task).toMatchObject({ status: 'processing', attempts: 1 });
    expect(events[2].task).toMatchObject({ status: 'pending', attempts: 1, error: 'flaky task failed on attempt 1 (simulated failure)' });
    expect(events[3].task).toMatchObject({ status: 'processing', attempts: 2 });
    expect(events[4].task).toMatchObject({ status: 'failed', error: 'flaky task failed on attempt 2 (simulated failure)' });
    expect(events[4].task.history.map((h: { outcome: string }) => h.outcome)).toEqual(['retry', 'failed']);
  });

  it('the retrying event carries run_at while the task waits for its retry', async () => {
    const id = await create({ type: 'flaky', max_retry: 1 });
    const s = await open(id);
    await s.waitForEvents(1);
    // A long backoff, so the task is still waiting when the event is built.
    worker = await createTestApp({ ...env, APP_ROLE: 'worker', RETRY_BASE_DELAY_MS: '60000' });
    const events = await s.waitForEvents(3);
    const retrying = JSON.parse(events[2].data);
    expect(events[2].event).toBe('retrying');
    expect(retrying).toMatchObject({ status: 'pending', retries: 1 });
    expect(Date.parse(retrying.run_at)).toBeGreaterThan(Date.parse(retrying.updated_at));
  });

  it('a finished task: one event with its state, and the stream ends', async () => {
    worker = await createTestApp({ ...env, APP_ROLE: 'worker' });
    const id = await create({ type: 'echo', payload: 'hi' });
    await waitFor(async () => ((await request(api.http).get(`/tasks/${id}`)).body.status === 'completed' ? true : undefined));
    const s = await open(id);
    await s.ended;
    expect(parsed(s)).toEqual([{ event: 'completed', task: expect.objectContaining({ id, result: 'echo: hi' }) }]);
  });

  it('a task deleted while streamed: a deleted event, then the end', async () => {
    const id = await create({ type: 'echo' });
    const s = await open(id);
    await s.waitForEvents(1);
    await request(api.http).delete(`/tasks/${id}`).expect(204);
    await s.ended;
    expect(s.events.map((e) => e.event)).toEqual(['pending', 'deleted']);
    expect(JSON.parse(s.events[1].data)).toEqual({ id });
  });

  it('404 JSON for an unknown task', async () => {
    const s = await open('6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11');
    await s.ended;
    expect(s.response.statusCode).toBe(404);
    expect(JSON.parse(s.body())).toEqual({ statusCode: 404, error: 'Not Found', message: 'task not found' });
  });

  it('a client that disconnects leaves no stream, listener or timer behind', async () => {
    const ids = [await create({ type: 'echo' }), await create({ type: 'echo' })];
    const opened = await Promise.all([open(ids[0]), open(ids[0]), open(ids[1])]);
    await Promise.all(opened.map((s) => s.waitForEvents(1)));
    const bus = api.app.get(TaskEventBus);
    const stream = api.app.get(TaskEventStream);
    expect(stream.openStreams).toBe(3);
    expect(bus.listenerCount).toBe(3);
    expect(bus.watchedTasks).toBe(2);

    for (const s of opened) s.close();
    await waitFor(() => (stream.openStreams === 0 && bus.listenerCount === 0 ? true : undefined), { what: 'the streams to be cleaned up' });
    expect(bus.watchedTasks).toBe(0);
  });
});
