import request from 'supertest';
import { deleteByPrefix, keysByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

describe('retention of finished tasks (TASK_RETENTION_S)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('retention');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '1', WORKER_PREFETCH: '0', TASK_RETENTION_S: '1', SLOW_TASK_MS: '30000', FLAKY_FAILURE_RATE: '1', SHUTDOWN_TIMEOUT_MS: '100' });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('removes completed and failed tasks with their index entries; pending and running ones stay', async () => {
    const post = async (body: object) => (await request(t.http).post('/tasks').send(body).expect(201)).body.id as string;
    const completed = await post({ type: 'echo', payload: 'bye' });
    const failed = await post({ type: 'flaky', max_retry: 0 });
    await waitFor(async () => ((await request(t.http).get(`/tasks/${failed}`)).body.status === 'failed' ? true : undefined));
    const running = await post({ type: 'slow' });
    await waitFor(async () => ((await request(t.http).get(`/tasks/${running}`)).body.status === 'processing' ? true : undefined));
    const pending = await post({ type: 'echo', payload: 'waits behind the slow task' });

    // The retention loop runs every 5 s; both finished tasks are older than 1 s by then.
    for (const id of [completed, failed]) {
      await waitFor(async () => ((await request(t.http).get(`/tasks/${id}`)).status === 404 ? true : undefined), {
        timeoutMs: 12_000,
        intervalMs: 200,
        what: `task ${id} to expire`,
      });
    }
    for (const key of await keysByPrefix(redis, prefix)) {
      if ((await redis.type(key)) !== 'zset') continue;
      expect(await redis.zscore(key, completed)).toBeNull();
      expect(await redis.zscore(key, failed)).toBeNull();
    }
    expect((await request(t.http).get(`/tasks/${running}`).expect(200)).body.status).toBe('processing');
    expect((await request(t.http).get(`/tasks/${pending}`).expect(200)).body.status).toBe('pending');
    const listed = (await request(t.http).get('/tasks').expect(200)).body.map((x: { id: string }) => x.id);
    expect(listed).toEqual([pending, running]);
  }, 30_000);
});
