import request from 'supertest';
import { PrivateRedis } from './support/redis-server';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Redis crashes and comes back (same AOF): clients get 503s (not hangs), nothing accepted is lost. */
describe('Redis outage', () => {
  let redis: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await PrivateRedis.start('always');
    t = await createTestApp({ REDIS_URL: redis.url, QUEUE_PREFIX: 'outage', WORKER_COUNT: '2', SLOW_TASK_MS: '1500', TASK_LEASE_MS: '3000' });
  });
  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      await redis?.destroy();
    }
  });

  const status = async (id: string) => (await request(t.http).get(`/tasks/${id}`)).body.status;

  it('answers 503 (not a hang) while Redis is down, resumes by itself, and every accepted task completes', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const type = i % 2 ? 'slow' : 'echo';
      accepted.push((await request(t.http).post('/tasks').send({ type, payload: `${i}` }).expect(201)).body.id);
    }
    await waitFor(async () => ((await status(accepted[1])) === 'processing' ? true : undefined), { what: 'a slow task to run' });

    await redis.kill();
    const started = Date.now();
    // A 503, not a hang: answered within ten command timeouts (a bound to stop waiting, not a target).
    const res = await request(t.http).post('/tasks').send({ type: 'echo', payload: 'lost?' }).timeout(10 * t.config.redis.commandTimeoutMs);
    process.stdout.write(`redis-outage: POST with Redis down answered ${res.status} in ${Date.now() - started} ms\n`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    await request(t.http).get(`/tasks/${accepted[0]}`).expect(503);
    await request(t.http).get('/tasks').expect(503);
    await request(t.http).delete(`/tasks/${accepted[0]}`).expect(503);
    expect((await request(t.http).get('/health')).status).toBe(503);
    expect((await request(t.http).get('/health/ready')).status).toBe(503);
    await request(t.http).get('/health/live').expect(200);

    await redis.restart();
    await waitFor(async () => ((await request(t.http).get('/health/ready')).status === 200 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'readiness after Redis returns',
    });
    await request(t.http).post('/tasks').send({ type: 'echo', payload: 'after' }).expect(201);

    for (const id of accepted) {
      await waitFor(async () => ((await status(id)) === 'completed' ? true : undefined), {
        timeoutMs: 20_000,
        what: `task ${id} to complete after the outage`,
      });
    }
    // The 503'd submission never appears later (commands are not replayed after a failure).
    const all = (await request(t.http).get('/tasks?limit=1000').expect(200)).body as Array<{ payload: string }>;
    expect(all.map((x) => x.payload)).not.toContain('lost?');
    expect(all).toHaveLength(11);
  }, 60_000);
});
