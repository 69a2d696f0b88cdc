import request from 'supertest';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { deleteByPrefix, keysByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { delay, waitFor } from './support/wait';

describe('DELETE /tasks/{id}', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('delete');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      QUEUE_PREFIX: prefix,
      WORKER_COUNT: '1',
      // No prefetch: a task behind the busy worker stays pending instead of being leased ahead.
      WORKER_PREFETCH: '0',
      SLOW_TASK_MS: '20000',
      FLAKY_FAILURE_RATE: '1',
      RETRY_BASE_DELAY_MS: '600000',
    });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  /** Every place the id could still be: its hash, and membership of every zset of the queue. */
  async function tracesOf(id: string): Promise<string[]> {
    const traces: string[] = [];
    for (const key of await keysByPrefix(redis, prefix)) {
      if (key.endsWith(`t:${id}`)) traces.push(key);
      else if ((await redis.type(key)) === 'zset' && (await redis.zscore(key, id)) !== null) traces.push(key);
    }
    return traces;
  }

  const status = async (id: string) => (await request(t.http).get(`/tasks/${id}`)).body.status as string | undefined;

  it('a delayed task (waiting for its retry) is removed everywhere', async () => {
    const { body } = await request(t.http).post('/tasks').send({ type: 'flaky', max_retry: 2 }).expect(201);
    const waiting = await waitFor(async () => {
      const res = await request(t.http).get(`/tasks/${body.id}`);
      return res.body.retries === 1 ? res.body : undefined;
    });
    expect(waiting.status).toBe('pending');
    expect(waiting.run_at).toBeDefined();
    await request(t.http).delete(`/tasks/${body.id}`).expect(204);
    await request(t.http).get(`/tasks/${body.id}`).expect(404);
    expect(await tracesOf(body.id)).toEqual([]);
  });

  it('a running task is aborted at once, its outcome discarded, and it never comes back', async () => {
    const pool = t.app.get(WorkerPoolService);
    const { body } = await request(t.http).post('/tasks').send({ type: 'slow' }).expect(201);
    await waitFor(async () => ((await status(body.id)) === 'processing' ? true : undefined));
    expect(pool.runningCount).toBe(1);

    await request(t.http).delete(`/tasks/${body.id}`).expect(204);
    // The slow handler would run for 20 s; the abort frees the slot long before.
    await waitFor(() => (pool.runningCount === 0 ? true : undefined), { timeoutMs: 3000, what: 'the abort' });
    await delay(300);
    await request(t.http).get(`/tasks/${body.id}`).expect(404);
    expect(await tracesOf(body.id)).toEqual([]);
  });

  it('a pending task is removed everywhere (worker busy, so it stays pending)', async () => {
    const busy = await request(t.http).post('/tasks').send({ type: 'slow' }).expect(201);
    await waitFor(async () => ((await status(busy.body.id)) === 'processing' ? true : undefined));
    const { body } = await request(t.http).post('/tasks').send({ type: 'echo', payload: 'x' }).expect(201);
    expect(await status(body.id)).toBe('pending');
    await request(t.http).delete(`/tasks/${body.id}`).expect(204);
    await request(t.http).get(`/tasks/${body.id}`).expect(404);
    expect(await tracesOf(body.id)).toEqual([]);
    await request(t.http).delete(`/tasks/${busy.body.id}`).expect(204);
  });

  it('a completed task is removed; deleting twice answers 404', async () => {
    const { body } = await request(t.http).post('/tasks').send({ type: 'echo', payload: 'done' }).expect(201);
    await waitFor(async () => ((await status(body.id)) === 'completed' ? true : undefined));
    await request(t.http).delete(`/tasks/${body.id}`).expect(204);
    await request(t.http).delete(`/tasks/${body.id}`).expect(404);
    expect(await tracesOf(body.id)).toEqual([]);
  });

  it('unknown and malformed ids answer 404', async () => {
    await request(t.http).delete('/tasks/6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11').expect(404);
    const res = await request(t.http).delete('/tasks/xyz').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, message: 'task not found' });
  });
});
