import request from 'supertest';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { PrivateRedis } from './support/redis-server';
import { createTestApp, TestApp } from './support/test-app';

/** /health over HTTP: 503 with a reason when a part is down, never Redis' own error text. */
describe('health endpoints', () => {
  let redis: PrivateRedis;
  let t: TestApp | undefined;

  beforeAll(async () => {
    redis = await PrivateRedis.start('everysec');
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(async () => redis.destroy());

  it('is 200 with every part up, 503 once the worker pool stops fetching', async () => {
    t = await createTestApp({ REDIS_URL: redis.url, QUEUE_PREFIX: 'health-pool', WORKER_COUNT: '2' });
    const up = await request(t.http).get('/health').expect(200);
    expect(up.body.info).toMatchObject({ redis: { status: 'up' }, workers: { status: 'up', concurrency: 2 } });
    // Phase 1 of shutdown: fetching stops, the probe says so.
    t.app.get(WorkerPoolService).onModuleDestroy();
    const down = await request(t.http).get('/health').expect(503);
    expect(down.body.error).toMatchObject({ workers: { status: 'down' } });
    // Readiness is about traffic, liveness about the process: neither depends on the pool.
    await request(t.http).get('/health/live').expect(200);
  });

  it('Redis down: /health and /health/ready answer 503 without echoing the Redis error, /health/live 200', async () => {
    t = await createTestApp({ REDIS_URL: redis.url, QUEUE_PREFIX: 'health-redis', WORKER_COUNT: '0' });
    await request(t.http).get('/health/ready').expect(200);
    await redis.kill();
    try {
      for (const path of ['/health', '/health/ready']) {
        const res = await request(t.http).get(path).expect(503);
        expect(res.body.error.redis).toEqual({ status: 'down', message: 'Redis does not answer' });
        const text = JSON.stringify(res.body);
        expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Connection is closed|writeable|max retries/i);
        expect(text).not.toContain(String(redis.port));
      }
      await request(t.http).get('/health/live').expect(200);
    } finally {
      await redis.restart();
    }
  });
});
