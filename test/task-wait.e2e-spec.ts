import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TaskEventBus } from '../src/queue/task-event-bus';
import { TaskWaiter } from '../src/tasks/task-waiter';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * GET /tasks/{id}?wait=N and POST /tasks?wait=N: answered when the task finishes (X-Task-Wait: done)
 * or after N seconds with its current state (X-Task-Wait: timeout), from one events subscription per
 * API process, also when the worker is another process.
 */
describe('waiting for a task (?wait=N)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('wait');

  afterAll(async () => {
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  describe('in one process', () => {
    // API only: tasks stay pending until a test starts a worker.
    let api: TestApp;
    let port: number;
    let worker: TestApp | undefined;
    const env = {
      QUEUE_PREFIX: `${prefix}-one`,
      SLOW_TASK_MS: '300',
      // Long waits must outlive Node's request timeout: it bounds receiving the request, not the answer.
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: '1000',
    };

    beforeAll(async () => {
      api = await createTestApp({ ...env, APP_ROLE: 'api' });
      // Listening, for the specs that need real sockets (disconnects, many concurrent requests).
      await api.app.listen(0, '127.0.0.1');
      port = (api.app.getHttpServer().address() as AddressInfo).port;
    });
    afterEach(async () => {
      await worker?.close();
      worker = undefined;
    });
    afterAll(async () => {
      await api.close();
    });

    const create = async (body: object) => (await request(api.http).post('/tasks').send(body).expect(201)).body.id as string;
    const bus = () => api.app.get(TaskEventBus);
    const waiter = () => api.app.get(TaskWaiter);

    it('answers as soon as the task completes, with X-Task-Wait: done and its history', async () => {
      const id = await create({ type: 'slow' });
      const answer = request(api.http).get(`/tasks/${id}?wait=30`).then((res) => res);
      await waitFor(() => (waiter().waiting === 1 ? true : undefined), { what: 'the request to wait' });
      worker = await createTestApp({ ...env, APP_ROLE: 'worker' });

      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.headers['x-task-wait']).toBe('done');
      expect(res.body).toMatchObject({ id, status: 'completed', result: 'completed after 0.3 seconds' });
      expect(res.body.history).toEqual([
        { attempt: 1, worker_id: expect.stringMatching(/\/1$/), started_at: res.body.started_at, ended_at: res.body.completed_at, outcome: 'completed' },
      ]);
      expect(waiter().waiting).toBe(0);
      expect(bus().watchedTasks).toBe(0);
    });

    it('answers after N seconds with the current state and X-Task-Wait: timeout (past HTTP_REQUEST_TIMEOUT_MS)', async () => {
      const id = await create({ type: 'echo', payload: 'x' });
      const res = await request(api.http).get(`/tasks/${id}?wait=2`).expect(200);
      expect(res.headers['x-task-wait']).toBe('timeout');
      expect(res.body).toMatchObject({ id, status: 'pending', history: [] });
    });

    it('a finished task is answered at once, done', async () => {
      const id = await create({ type: 'echo', payload: 'x' });
      worker = await createTestApp({ ...env, APP_ROLE: 'worker' });
      await waitFor(async () => ((await request(api.http).get(`/tasks/${id}`)).body.status === 'completed' ? true : undefined));
      const res = await request(api.http).get(`/tasks/${id}?wait=60`).expect(200);
      expect(res.headers['x-task-wait']).toBe('done');
      expect(bus().watchedTasks).toBe(0);
    });

    it('POST /tasks?wait=N creates and waits: 201 with the finished task, or the pending one after N seconds', async () => {
      worker = await createTestApp({ ...env, APP_ROLE: 'worker' });
      const done = await request(api.http).post('/tasks?wait=30').send({ type: 'reverse', payload: 'abc' }).expect(201);
      expect(done.headers['x-task-wait']).toBe('done');
      expect(done.body).toMatchObject({ status: 'completed', result: 'cba', attempts: 1 });
      expect(done.body.history).toHaveLength(1);
      await worker.close();
      worker = undefined;

      const pending = await request(api.http).post('/tasks?wait=1').send({ type: 'echo' }).expect(201);
      expect(pending.headers['x-task-wait']).toBe('timeout');
      expect(pending.body).toMatchObject({ status: 'pending' });
      // Without wait the answer is as before: no header, no history.
      const plain = await request(api.http).post('/tasks').send({ type: 'echo' }).expect(201);
      expect(plain.headers['x-task-wait']).toBeUndefined();
      expect(plain.body).not.toHaveProperty('history');
    });

    it('a repeated idempotent POST ?wait=N answers 200 with the finished task and its history', async () => {
      worker = await createTestApp({ ...env, APP_ROLE: 'worker' });
      const key = `wait-${Date.now()}`;
      const first = await request(api.http).post('/tasks?wait=30').set('Idempotency-Key', key).send({ type: 'echo', payload: 'k' }).expect(201);
      expect(first.headers['x-task-wait']).toBe('done');
      const again = await request(api.http).post('/tasks?wait=30').set('Idempotency-Key', key).send({ type: 'echo', payload: 'k' }).expect(200);
      expect(again.headers['x-task-wait']).toBe('done');
      expect(again.body).toMatchObject({ id: first.body.id, status: 'completed', history: [expect.objectContaining({ outcome: 'completed' })] });
    });

    it.each(['0', '61', '1.5', '-1', 'abc', '', '5&wait=6'])('wait=%s is a 400 naming the parameter', async (value) => {
      const id = await create({ type: 'echo' });
      for (const path of [`/tasks/${id}?wait=${value}`]) {
        const res = await request(api.http).get(path).expect(400);
        expect(res.body.message).toBe('wait must be an integer between 1 and 60 (seconds)');
      }
      const post = await request(api.http).post(`/tasks?wait=${value}`).send({ type: 'echo' }).expect(400);
      expect(post.body.message).toBe('wait must be an integer between 1 and 60 (seconds)');
    });

    it('POST /tasks: a bad body is reported before a bad wait or Idempotency-Key, and a bad wait or key creates nothing', async () => {
      const count = async () => ((await request(api.http).get('/tasks?limit=1000').expect(200)).body as unknown[]).length;
      const before = await count();
      const badBody = await request(api.http).post('/tasks?wait=0').set('Idempotency-Key', '').send({ payload: 'no type' }).expect(400);
      expect(String(badBody.body.message)).toMatch(/^type /);
      const badWait = await request(api.http).post('/tasks?wait=0').send({ type: 'echo' }).expect(400);
      expect(badWait.body.message).toBe('wait must be an integer between 1 and 60 (seconds)');
      const badKey = await request(api.http).post('/tasks?wait=5').set('Idempotency-Key', 'a\tb').send({ type: 'echo' }).expect(400);
      expect(badKey.body.message).toBe('Idempotency-Key must be 1 to 255 printable ASCII characters');
      expect(await count()).toBe(before);
    });

    it('404 for an unknown task, and for a task deleted while the request waits', async () => {
      await request(api.http).get('/tasks/6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11?wait=5').expect(404);
      const id = await create({ type: 'echo' });
      const answer = request(api.http).get(`/tasks/${id}?wait=30`).then((res) => res);
      await waitFor(() => (bus().watchedTasks === 1 ? true : undefined), { what: 'the request to wait' });
      await request(api.http).delete(`/tasks/${id}`).expect(204);
      const res = await answer;
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'task not found' });
    });

    it('a client that disconnects leaves no waiter behind (waiter map back to 0)', async () => {
      const ids = [await create({ type: 'echo' }), await create({ type: 'echo' })];
      const requests = ids.flatMap((id) => [1, 2].map(() => httpRequest(`http://127.0.0.1:${port}/tasks/${id}?wait=60`)));
      try {
        for (const r of requests) {
          r.on('error', () => undefined);
          r.end();
        }
        await waitFor(() => (bus().listenerCount === 4 ? true : undefined), { what: 'four waiting requests' });
        expect(bus().watchedTasks).toBe(2);
        expect(waiter().waiting).toBe(4);
      } finally {
        for (const r of requests) r.destroy();
      }
      await waitFor(() => (bus().listenerCount === 0 && waiter().waiting === 0 ? true : undefined), { what: 'the waiters to go' });
      expect(bus().watchedTasks).toBe(0);
    });

    it('two hundred waiting requests share one subscription and are all answered when their tasks finish', async () => {
      const batch = await request(api.http)
        .post('/tasks/batch')
        .send(Array.from({ length: 200 }, (_, i) => ({ type: 'echo', payload: `n${i}` })))
        .expect(201);
      const ids = (batch.body as Array<{ id: string }>).map((t) => t.id);
      const answers = Promise.all(
        ids.map(async (id) => {
          const res = await fetch(`http://127.0.0.1:${port}/tasks/${id}?wait=60`);
          return { status: res.status, wait: res.headers.get('x-task-wait'), body: (await res.json()) as { status: string } };
        }),
      );
      await waitFor(() => (waiter().waiting === 200 ? true : undefined), { what: '200 waiting requests' });
      const [, subscribers] = (await redis.pubsub('NUMSUB', api.queue.keys.eventsChannel)) as [string, number];
      expect(subscribers).toBe(1);
      expect(bus().watchedTasks).toBe(200);

      worker = await createTestApp({ ...env, APP_ROLE: 'worker', WORKER_COUNT: '8' });
      const results = await answers;
      expect(results.filter((r) => r.status === 200 && r.wait === 'done' && r.body.status === 'completed')).toHaveLength(200);
      expect(bus().watchedTasks).toBe(0);
    }, 60_000);

    it('shutdown answers waiting requests at once with the current state', async () => {
      const own = await createTestApp({ ...env, APP_ROLE: 'api' });
      let closing: Promise<void> | undefined;
      try {
        const id = (await request(own.http).post('/tasks').send({ type: 'echo' }).expect(201)).body.id as string;
        const answer = request(own.http).get(`/tasks/${id}?wait=60`).then((res) => res);
        await waitFor(() => (own.app.get(TaskWaiter).waiting === 1 ? true : undefined), { what: 'the request to wait' });
        closing = own.close();
        const res = await answer;
        expect(res.status).toBe(200);
        expect(res.headers['x-task-wait']).toBe('timeout');
        expect(res.body).toMatchObject({ id, status: 'pending' });
      } finally {
        await (closing ?? own.close());
      }
    });
  });

  describe('API and worker in separate processes', () => {
    let api: ServiceProcess | undefined;
    let worker: ServiceProcess | undefined;
    afterAll(async () => {
      await stopService(api);
      await stopService(worker);
    });

    it('a request waiting on the API process is answered when the worker process completes the task', async () => {
      const env = { QUEUE_PREFIX: `${prefix}-procs`, SLOW_TASK_MS: '500', LOG_LEVEL: 'warn' };
      [api, worker] = await Promise.all([startService({ ...env, APP_ROLE: 'api' }), startService({ ...env, APP_ROLE: 'worker', WORKER_COUNT: '1' })]);
      const created = await fetch(`${api.url}/tasks?wait=30`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'slow' }),
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('x-task-wait')).toBe('done');
      const task = (await created.json()) as { id: string; status: string; history: Array<{ worker_id: string; outcome: string }> };
      expect(task.status).toBe('completed');
      expect(task.history).toEqual([expect.objectContaining({ outcome: 'completed', worker_id: expect.stringMatching(new RegExp(`-${worker.child.pid}/1$`)) })]);

      const again = await fetch(`${api.url}/tasks/${task.id}?wait=5`);
      expect(again.headers.get('x-task-wait')).toBe('done');
    }, 60_000);
  });
});
