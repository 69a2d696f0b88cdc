import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { TaskHandler } from '../src/task-types/task-handler';
import { LEASE_EXPIRED_ERROR } from '../src/worker/maintenance.service';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Payloads of the `mark` tasks, in the order their handlers started (any app of this file). */
const marked: string[] = [];

@Injectable()
@TaskHandler('mark', { payload: 'string' })
class MarkHandler implements TaskHandler {
  handle(payload: string): Promise<string> {
    marked.push(payload);
    return Promise.resolve(payload);
  }
}

interface Task {
  id: string;
  queue: string;
  status: string;
  retries: number;
  error?: string;
}

/** A task id as issued: 22 characters of base64url. */
const ID = '[A-Za-z0-9_-]{22}';

/**
 * Named queues end to end: routing, ids and listing through the API (an API-only app, so tasks stay
 * where they were put), then worker apps on the same prefix for serving order, discovery, pause and
 * recovery. Nothing is asserted about time: every wait is for a state.
 */
describe('named queues', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('named-queues');
  let api: TestApp;
  const workers: TestApp[] = [];

  const startWorker = async (env: Record<string, string> = {}): Promise<TestApp> => {
    const app = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'worker', ...env }, { providers: [MarkHandler] });
    workers.push(app);
    return app;
  };
  const stopWorkers = async () => {
    for (const w of workers.splice(0)) await w.close();
  };

  beforeAll(async () => {
    api = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' }, { providers: [MarkHandler] });
  });
  afterEach(stopWorkers);
  afterAll(async () => {
    await stopWorkers();
    await api?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const post = async (body: object): Promise<Task> => (await request(api.http).post('/tasks').send(body).expect(201)).body as Task;
  const get = async (id: string): Promise<Task> => (await request(api.http).get(`/tasks/${id}`).expect(200)).body as Task;
  const queues = async () => (await request(api.http).get('/queues').expect(200)).body.queues as Array<{ name: string; paused: boolean; counts: Record<string, number> }>;
  /** Waits until the worker's discovery has found the queue `held`, so its fetch rounds include it. */
  const servingHeld = (worker: TestApp) =>
    waitFor(() => (worker.app.get(WorkerPoolService).queues.names.includes('held') ? true : undefined), { what: 'the worker to serve held' });
  const untilStatus = (id: string, status: string) =>
    waitFor(async () => {
      const task = await get(id);
      return task.status === status ? task : undefined;
    }, { what: `task ${id} to be ${status}`, timeoutMs: 20_000 });

  describe('through the API', () => {
    it('routes a task to its queue: the id carries the queue, GET and DELETE find it, ?queue= filters', async () => {
      const plain = await post({ type: 'mark', payload: 'p' });
      const mail = await post({ type: 'mark', payload: 'm', queue: 'emails' });
      expect(plain.id).toMatch(new RegExp(`^${ID}$`));
      expect(plain.queue).toBe('default');
      expect(mail.id).toMatch(new RegExp(`^emails\\.${ID}$`));
      expect(mail.queue).toBe('emails');
      expect(await get(mail.id)).toMatchObject({ id: mail.id, queue: 'emails', status: 'pending' });
      // A base64url id is case-sensitive: another case is another id (UUIDs, issued before, compare in lower case).
      const own = mail.id.slice('emails.'.length);
      const otherCase = own.replace(/[a-z]/, (c) => c.toUpperCase());
      if (otherCase !== own) await request(api.http).get(`/tasks/emails.${otherCase}`).expect(404);

      const onlyEmails = (await request(api.http).get('/tasks?queue=emails').expect(200)).body as Task[];
      expect(onlyEmails.map((t) => t.id)).toEqual([mail.id]);
      const onlyDefault = (await request(api.http).get('/tasks?queue=default').expect(200)).body as Task[];
      expect(onlyDefault.map((t) => t.id)).toEqual([plain.id]);

      await request(api.http).delete(`/tasks/${mail.id}`).expect(204);
      await request(api.http).get(`/tasks/${mail.id}`).expect(404);
      await request(api.http).delete(`/tasks/${plain.id}`).expect(204);
    });

    it('lists every queue merged newest first when no queue is named, one page at a time without gaps or repeats', async () => {
      const created: Task[] = [];
      for (let i = 0; i < 9; i += 1) created.push(await post({ type: 'mark', payload: `l${i}`, queue: ['default', 'alpha', 'beta'][i % 3] }));
      const seen: string[] = [];
      let url: string | undefined = '/tasks?limit=2';
      while (url) {
        const res = await request(api.http).get(url).expect(200);
        seen.push(...(res.body as Task[]).map((t) => t.id));
        const link = res.headers.link as string | undefined;
        url = link ? /^<([^>]+)>/.exec(link)?.[1] : undefined;
      }
      expect(seen).toEqual([...created].reverse().map((t) => t.id));
      for (const t of created) await request(api.http).delete(`/tasks/${t.id}`).expect(204);
    });

    it('stores a batch whose elements target different queues, in order', async () => {
      const res = await request(api.http)
        .post('/tasks/batch')
        .send([
          { type: 'mark', payload: 'b0', queue: 'alpha' },
          { type: 'mark', payload: 'b1' },
          { type: 'mark', payload: 'b2', queue: 'beta' },
          { type: 'mark', payload: 'b3', queue: 'alpha' },
        ])
        .expect(201);
      const tasks = res.body as Task[];
      expect(tasks.map((t) => t.queue)).toEqual(['alpha', 'default', 'beta', 'alpha']);
      for (const t of tasks) expect((await get(t.id)).queue).toBe(t.queue);
      for (const t of tasks) await request(api.http).delete(`/tasks/${t.id}`).expect(204);
    });

    it.each([
      ['POST /tasks', () => request(api.http).post('/tasks').send({ type: 'mark', queue: 'Bad.Name' }), /^queue must be 1 to 64 characters/],
      ['POST /tasks (not a string)', () => request(api.http).post('/tasks').send({ type: 'mark', queue: 5 }), /^queue must be a string/],
      ['POST /tasks (too long)', () => request(api.http).post('/tasks').send({ type: 'mark', queue: 'q'.repeat(65) }), /^queue must be 1 to 64/],
      ['POST /tasks/batch', () => request(api.http).post('/tasks/batch').send([{ type: 'mark' }, { type: 'mark', queue: '-x' }]), /\[1\] queue must be 1 to 64/],
      ['GET /tasks', () => request(api.http).get('/tasks?queue=A'), /^queue must be 1 to 64/],
      ['POST /queues/{name}/pause', () => request(api.http).post('/queues/No_Way/pause'), /^name must be 1 to 64/],
      ['POST /queues/{name}/resume', () => request(api.http).post('/queues/_x/resume'), /^name must be 1 to 64/],
    ])('a bad queue name is a 400 naming the field: %s', async (_what, send, message) => {
      const res = await send();
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    });

    it('answers 404 for ids that cannot be task ids', async () => {
      for (const id of ['emails.not-a-uuid', 'Bad_Queue!.0f8fad5b-d9cb-469f-a165-70867728950e', 'a..0f8fad5b-d9cb-469f-a165-70867728950e']) {
        await request(api.http).get(`/tasks/${encodeURIComponent(id)}`).expect(404);
      }
    });
  });

  describe('serving', () => {
    it('WORKER_QUEUES_STRICT: every due task of an earlier queue runs before any of a later one', async () => {
      marked.length = 0;
      // Staged before any worker runs: 3 low, then 3 critical.
      for (const q of ['low', 'low', 'low', 'critical', 'critical', 'critical']) await post({ type: 'mark', payload: q, queue: q });
      await startWorker({ WORKER_QUEUES: 'critical,low', WORKER_QUEUES_STRICT: 'true', WORKER_COUNT: '1', WORKER_PREFETCH: '0' });
      await waitFor(() => (marked.length === 6 ? true : undefined), { what: 'six tasks to run', timeoutMs: 20_000 });
      expect(marked).toEqual(['critical', 'critical', 'critical', 'low', 'low', 'low']);
    });

    it('a worker with WORKER_QUEUES unset serves a queue created after it started, without a restart', async () => {
      const worker = await startWorker();
      const fresh = await post({ type: 'mark', payload: 'fresh', queue: `fresh-${Date.now()}` });
      expect((await untilStatus(fresh.id, 'completed')).queue).toBe(fresh.queue);
      // ?wait on a task of a named queue hears its events.
      const waited = await post({ type: 'mark', payload: 'waited', queue: fresh.queue });
      const res = await request(api.http).get(`/tasks/${waited.id}?wait=15`).expect(200);
      expect(res.body.status).toBe('completed');
      // The task counters are labelled with the task's queue, where it was created and where it ran.
      const series = `{queue="${fresh.queue}",type="mark"} 2`;
      expect((await request(api.http).get('/metrics').expect(200)).text).toContain(`taskqueue_tasks_created_total${series}`);
      expect((await request(worker.http).get('/metrics').expect(200)).text).toContain(`taskqueue_tasks_completed_total${series}`);
    });

    it('a paused queue hands out nothing (also after a restart) while other queues run; resume lets its task run', async () => {
      const paused = (await request(api.http).post('/queues/held/pause').expect(200)).body;
      expect(paused).toMatchObject({ name: 'held', paused: true });
      const held = await post({ type: 'mark', payload: 'held', queue: 'held' });
      await servingHeld(await startWorker());
      // A task of another queue that runs after the held one was there: the worker has been fetching from both.
      const other = await post({ type: 'mark', payload: 'other' });
      await untilStatus(other.id, 'completed');
      expect((await get(held.id)).status).toBe('pending');
      expect((await queues()).find((q) => q.name === 'held')).toMatchObject({ paused: true, counts: { pending: 1 } });

      // A fresh worker process (the pause lives in Redis) does not take it either.
      await stopWorkers();
      await servingHeld(await startWorker());
      const other2 = await post({ type: 'mark', payload: 'other2' });
      await untilStatus(other2.id, 'completed');
      expect((await get(held.id)).status).toBe('pending');

      const resumed = (await request(api.http).post('/queues/held/resume').expect(200)).body;
      expect(resumed).toMatchObject({ name: 'held', paused: false });
      await untilStatus(held.id, 'completed');
    });

    it('GET /queues lists each queue with its counts, latency and paused state; /metrics labels gauges by queue', async () => {
      const list = await queues();
      const names = list.map((q) => q.name);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['default', 'emails', 'alpha', 'beta', 'held']));
      for (const q of list) {
        expect(Object.keys(q.counts).sort()).toEqual(['completed', 'failed', 'pending', 'processing', 'scheduled']);
        expect(typeof (q as unknown as { latency_ms: number }).latency_ms).toBe('number');
      }
      await post({ type: 'mark', payload: 'later', queue: 'gauged', delay_ms: 600_000 });
      const gauged = (await queues()).find((q) => q.name === 'gauged');
      expect(gauged).toMatchObject({ paused: false, counts: { pending: 1, scheduled: 1 } });
      // The gauges are read at scrape time (and briefly cached): wait for a scrape that shows the queue.
      await waitFor(async () => {
        const metrics = (await request(api.http).get('/metrics').expect(200)).text;
        return /taskqueue_tasks\{queue="gauged",state="pending"\} 1/.test(metrics) ? true : undefined;
      }, { what: 'a gauge labelled with the queue' });
    });

    it('the recoverer of any worker process recovers an expired lease in a named queue', async () => {
      const worker = await startWorker({ WORKER_COUNT: '0', TASK_LEASE_MS: '1000', RETRY_BASE_DELAY_MS: '60000' });
      const task = await post({ type: 'mark', payload: 'lost', queue: 'orphans', max_retry: 3 });
      // Leased and started by hand, as a worker that then dies would.
      const { tasks } = await worker.queue.fetch(1, 1000, 0, 'orphans');
      expect(tasks.map((t) => t.id)).toEqual([task.id]);
      await worker.queue.start(tasks[0], 'gone-host-1/1');
      const recovered = await waitFor(async () => {
        const t = await get(task.id);
        return t.status === 'pending' && t.retries === 1 ? t : undefined;
      }, { what: 'the expired lease to be recovered', timeoutMs: 20_000 });
      expect(recovered.error).toBe(LEASE_EXPIRED_ERROR);
    });
  });
});
