import request from 'supertest';
import { QueueKeys } from '../src/queue/queue-keys';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { WorkerPresenceService } from '../src/worker/worker-presence.service';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * A worker serving every queue (WORKER_QUEUES unset) joins a queue created after it started through the
 * registry's channel, not its periodic read of the registry, and lists the queue in GET /workers at once.
 * The periodic loops are stopped first, so only the channel and the change itself can do it.
 */
describe('discovery of new queues', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('discovery');
  let t: TestApp;
  let pool: WorkerPoolService;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2' });
    pool = t.app.get(WorkerPoolService);
    // The worker listens on the cancel channel of `default`, subscribed after the registry's channel
    // on the same connection (ServedQueues.start), so it listens on both.
    await waitFor(async () => ((await redis.pubsub('NUMSUB', new QueueKeys(prefix).cancelChannel))[1] === 1 ? true : undefined), {
      what: 'the subscriptions made',
    });
    await pool.queues.discovery?.stop();
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('runs a task submitted to a brand-new queue, with the periodic discovery stopped', async () => {
    const id = (await request(t.http).post('/tasks').send({ type: 'echo', payload: 'x', queue: 'fresh' }).expect(201)).body.id;
    const done = await waitFor(
      async () => {
        const task = (await request(t.http).get(`/tasks/${id}`).expect(200)).body;
        return task.status === 'completed' ? task : undefined;
      },
      { timeoutMs: 20_000, what: 'the task of the new queue completed' },
    );
    expect(done).toMatchObject({ queue: 'fresh', result: 'echo: x' });
    expect(pool.queues.names).toContain('fresh');
  });

  it('GET /workers lists a queue joined since the last heartbeat without waiting for the next one', async () => {
    const presence = t.app.get(WorkerPresenceService);
    await presence.loop.stop();
    await request(t.http).post('/queues/joined-later/pause').expect(200);
    await pool.queues.discover();
    await waitFor(
      async () => {
        const me = ((await request(t.http).get('/workers').expect(200)).body.workers as { id: string; queues: string[] }[]).find((w) => w.id === pool.processId);
        return me?.queues.includes('joined-later') ? me : undefined;
      },
      { timeoutMs: 20_000, what: 'the worker entry listing the new queue' },
    );
  });
});
