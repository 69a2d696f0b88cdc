import request from 'supertest';
import { QueueIntegrityChecker } from '../src/queue/queue-integrity.checker';
import { QueueRepository } from '../src/queue/queue.repository';
import { RedisConnections } from '../src/queue/redis-connections';
import { ADMIN_CHUNK } from '../src/queue/queue-admin.repository';
import { Scrape } from './support/prometheus';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

/**
 * POST /tasks/{id}/retry, POST /tasks/retry-failed and DELETE /tasks?status=, on an API-only app: no
 * worker runs, so the spec finishes tasks itself (fetch, then settle) and every state is its doing.
 */
describe('admin actions', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('admin');
  let t: TestApp;
  let checker: QueueIntegrityChecker;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
    checker = new QueueIntegrityChecker(t.app.get(RedisConnections), t.app.get(QueueRepository));
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });
  afterEach(async () => {
    expect((await checker.check()).violations).toEqual([]);
    await deleteByPrefix(redis, `${prefix}:{`);
  });

  /** Submits `count` echo tasks of `type` and ends every attempt the way `outcome` says. */
  async function finished(count: number, outcome: 'complete' | 'fail', type = 'echo', queue = 'default'): Promise<string[]> {
    const batch = Array.from({ length: count }, (_, i) => ({ type, payload: `p${i}`, max_retry: 0, queue }));
    const ids: string[] = [];
    for (let i = 0; i < batch.length; i += 1000) {
      const res = await request(t.http).post('/tasks/batch').send(batch.slice(i, i + 1000)).expect(201);
      ids.push(...(res.body as { id: string }[]).map((task) => task.id));
    }
    let left = count;
    while (left > 0) {
      const { tasks } = await t.queue.fetch(Math.min(left, 1000), 30_000, 0, queue);
      await t.queue.settle(tasks.map((task) => ({ lease: task, mode: outcome, text: outcome === 'fail' ? 'boom' : 'ok' })));
      left -= tasks.length;
    }
    return ids;
  }

  describe('POST /tasks/{id}/retry', () => {
    it('sends a failed task back to pending with a fresh retry budget, and it runs again', async () => {
      const [id] = await finished(1, 'fail');
      const res = await request(t.http).post(`/tasks/${id}/retry`).expect(202);
      expect(res.body).toMatchObject({ id, status: 'pending', retries: 0, attempts: 1 });
      expect(res.body.completed_at).toBeUndefined();

      // It is leased again (attempt 2) and its first attempt stays in the history.
      const { tasks } = await t.queue.fetch(10, 30_000);
      expect(tasks.map((task) => [task.id, task.token])).toEqual([[id, 2]]);
      await t.queue.complete(tasks[0], 'second time');
      const done = (await request(t.http).get(`/tasks/${id}`).expect(200)).body;
      expect(done).toMatchObject({ status: 'completed', result: 'second time', attempts: 2 });
      expect(done.history.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome])).toEqual([
        [1, 'failed'],
        [2, 'completed'],
      ]);
    });

    it('answers 409 naming the state of a task that is not failed, and changes nothing', async () => {
      const [completed] = await finished(1, 'complete');
      const res = await request(t.http).post(`/tasks/${completed}/retry`).expect(409);
      expect(res.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'task is completed; only a failed task can be retried' });
      const pending = (await request(t.http).post('/tasks').send({ type: 'echo', payload: 'x' }).expect(201)).body.id;
      expect((await request(t.http).post(`/tasks/${pending}/retry`).expect(409)).body.message).toBe('task is pending; only a failed task can be retried');
      expect((await request(t.http).get(`/tasks/${completed}`)).body.status).toBe('completed');
    });

    it('answers 404 for an unknown or malformed id', async () => {
      await request(t.http).post('/tasks/6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11/retry').expect(404);
      await request(t.http).post('/tasks/not-an-id/retry').expect(404);
    });
  });

  describe('POST /tasks/retry-failed', () => {
    it(`retries every failed task, more than one chunk (${ADMIN_CHUNK}) of them, and only failed ones`, async () => {
      const failed = await finished(ADMIN_CHUNK + 20, 'fail');
      await finished(5, 'complete');
      const res = await request(t.http).post('/tasks/retry-failed').expect(202);
      expect(res.body).toEqual({ retried: failed.length });
      const stats = (await request(t.http).get('/stats').expect(200)).body;
      expect(stats.counts).toMatchObject({ pending: failed.length, failed: 0, completed: 5 });
      expect((await request(t.http).post('/tasks/retry-failed').expect(202)).body).toEqual({ retried: 0 });
    });

    it('takes only the type and queue asked for', async () => {
      await finished(3, 'fail', 'echo');
      await finished(2, 'fail', 'reverse');
      expect((await request(t.http).post('/tasks/retry-failed?type=reverse').expect(202)).body).toEqual({ retried: 2 });
      expect((await request(t.http).post('/tasks/retry-failed?queue=other').expect(202)).body).toEqual({ retried: 0 });
      expect((await request(t.http).post('/tasks/retry-failed?queue=default&type=echo').expect(202)).body).toEqual({ retried: 3 });
    });

    it('without queue, takes the failed tasks of every queue; a task of another queue is retried by its id', async () => {
      const [other] = await finished(2, 'fail', 'echo', 'other');
      await finished(1, 'fail');
      expect((await request(t.http).post(`/tasks/${other}/retry`).expect(202)).body).toMatchObject({ id: other, queue: 'other', status: 'pending' });
      expect((await request(t.http).post('/tasks/retry-failed').expect(202)).body).toEqual({ retried: 2 });
      const queues = (await request(t.http).get('/stats').expect(200)).body.queues as { name: string; counts: { pending: number } }[];
      expect(queues.map((q) => [q.name, q.counts.pending])).toEqual([
        ['default', 1],
        ['other', 2],
      ]);
    });

    it('answers 400 naming a bad parameter', async () => {
      expect((await request(t.http).post('/tasks/retry-failed?queue=Bad.Name').expect(400)).body.message).toMatch(/^queue /);
      expect((await request(t.http).post('/tasks/retry-failed?what=1').expect(400)).body.message).toMatch(/what/);
    });
  });

  describe('DELETE /tasks?status=', () => {
    it(`deletes every task of the status, more than one chunk (${ADMIN_CHUNK}), with its indexes and history`, async () => {
      const completed = await finished(ADMIN_CHUNK + 7, 'complete');
      const failed = await finished(4, 'fail');
      expect((await request(t.http).delete('/tasks?status=completed').expect(202)).body).toEqual({ deleted: completed.length });
      await request(t.http).get(`/tasks/${completed[0]}`).expect(404);
      expect((await request(t.http).get(`/tasks/${failed[0]}`).expect(200)).body.status).toBe('failed');
      expect((await request(t.http).delete('/tasks?status=failed&queue=default').expect(202)).body).toEqual({ deleted: failed.length });
      const stats = (await request(t.http).get('/stats').expect(200)).body;
      expect(stats.counts).toMatchObject({ completed: 0, failed: 0 });
    });

    it('without queue, deletes in every queue', async () => {
      await finished(2, 'complete', 'echo', 'other');
      await finished(3, 'complete');
      expect((await request(t.http).delete('/tasks?status=completed&queue=other').expect(202)).body).toEqual({ deleted: 2 });
      await finished(2, 'complete', 'echo', 'other');
      expect((await request(t.http).delete('/tasks?status=completed').expect(202)).body).toEqual({ deleted: 5 });
    });

    it('counts each deleted task in taskqueue_tasks_deleted_total under its own queue', async () => {
      const scrape = async () => new Scrape((await request(t.http).get('/metrics').expect(200)).text);
      await finished(2, 'complete', 'echo', 'other');
      await finished(3, 'complete');
      await finished(1, 'complete', 'echo', 'emails');
      const [single] = await finished(1, 'fail', 'echo', 'emails');
      const before = await scrape();
      expect((await request(t.http).delete('/tasks?status=completed&queue=other').expect(202)).body).toEqual({ deleted: 2 });
      // Over every queue: each queue's part under its name.
      expect((await request(t.http).delete('/tasks?status=completed').expect(202)).body).toEqual({ deleted: 4 });
      await request(t.http).delete(`/tasks/${single}`).expect(204);
      const after = await scrape();
      const moved = (queue: string) => after.value('taskqueue_tasks_deleted_total', { queue }) - before.value('taskqueue_tasks_deleted_total', { queue });
      expect([moved('default'), moved('other'), moved('emails')]).toEqual([3, 2, 2]);
    });

    it('with older_than_s deletes only tasks finished that long ago, by their finish time, across chunks', async () => {
      const old = await finished(ADMIN_CHUNK + 3, 'fail');
      await finished(3, 'complete');
      // Finish times by Redis' clock: move the old ones an hour back (hash and status index).
      const keys = t.queue.keys;
      for (const id of old) {
        await redis.hincrby(keys.task(id), 'updated_at', -3_600_000);
        await redis.zincrby(keys.byStatus('failed'), -3_600_000, id);
      }
      const recent = await finished(2, 'fail');
      // An entry an older version wrote, scored by creation time (here: an hour back) though the task
      // finished just now: kept, as its finish time says.
      await redis.zincrby(keys.byStatus('failed'), -3_600_000, recent[0]);
      expect((await request(t.http).delete('/tasks?status=failed&older_than_s=600').expect(202)).body).toEqual({ deleted: ADMIN_CHUNK + 3 });
      for (const id of old) await request(t.http).get(`/tasks/${id}`).expect(404);
      for (const id of recent) expect((await request(t.http).get(`/tasks/${id}`).expect(200)).body.status).toBe('failed');
      expect((await request(t.http).delete('/tasks?status=completed&older_than_s=600').expect(202)).body).toEqual({ deleted: 0 });
    });

    it('answers 400 when status is missing or not a final state, or older_than_s is not an integer', async () => {
      expect((await request(t.http).delete('/tasks').expect(400)).body.message).toMatch(/^status is required/);
      expect((await request(t.http).delete('/tasks?status=pending').expect(400)).body.message).toMatch(/^status /);
      expect((await request(t.http).delete('/tasks?status=failed&older_than_s=1.5').expect(400)).body.message).toMatch(/^older_than_s /);
      expect((await request(t.http).delete('/tasks?status=failed&older_than_s=-1').expect(400)).body.message).toMatch(/^older_than_s /);
    });
  });
});
