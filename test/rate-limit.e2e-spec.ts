import request from 'supertest';
import { PrivateRedis } from './support/redis-server';
import { deleteByPrefix, keysByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** RATE_LIMIT_PER_MIN: one budget per client shared by every API replica through Redis, and what it never limits. */
describe('rate limit (RATE_LIMIT_PER_MIN)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('ratelimit');
  const LIMIT = 5;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const env = { QUEUE_PREFIX: prefix, APP_ROLE: 'api', RATE_LIMIT_PER_MIN: String(LIMIT) };
    [a, b] = await Promise.all([createTestApp(env), createTestApp(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('counts across two instances sharing Redis: over the limit is 429 with Retry-After and the JSON error body', async () => {
    for (let i = 0; i < LIMIT; i += 1) {
      const res = await request(i % 2 === 0 ? a.http : b.http).get('/tasks?limit=1').expect(200);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(LIMIT - i - 1));
    }
    const res = await request(b.http).get('/stats').expect(429);
    expect(res.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `rate limit exceeded: at most ${LIMIT} requests per minute (RATE_LIMIT_PER_MIN); retry after Retry-After seconds`,
    });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    await request(a.http).post('/tasks').send({ type: 'echo', payload: 'x' }).expect(429);
    // Its keys live under the queue prefix.
    expect((await keysByPrefix(redis, `${prefix}:ratelimit:`)).length).toBeGreaterThan(0);
  });

  it('never limits /health* and /metrics', async () => {
    for (let i = 0; i < LIMIT + 3; i += 1) {
      await request(a.http).get('/health/live').expect(200);
      await request(a.http).get('/health/ready').expect(200);
      await request(a.http).get('/metrics').expect(200);
    }
  });

  it('fails open when Redis does not answer: the request goes through, and one line is logged', async () => {
    const lines: string[] = [];
    const server = await PrivateRedis.start();
    const down = await createTestApp(
      { QUEUE_PREFIX: prefix, APP_ROLE: 'api', RATE_LIMIT_PER_MIN: '1', REDIS_URL: server.url, LOG_LEVEL: 'info' },
      { logStream: { write: (line: string) => void lines.push(line) } },
    );
    try {
      await server.kill();
      // A route that needs no Redis after the limiter: a malformed id is 404 (not 500, not 429).
      for (let i = 0; i < 3; i += 1) await request(down.http).get('/tasks/not-an-id').expect(404);
      const warned = await waitFor(() => {
        const found = lines.filter((l) => l.includes('rate limiter cannot reach Redis'));
        return found.length > 0 ? found : undefined;
      });
      expect(warned).toHaveLength(1);
      await server.restart();
      // Answers again: the limit holds again (1 per minute; the requests above were not counted).
      await waitFor(async () => ((await request(down.http).get('/tasks/not-an-id')).status === 429 ? true : undefined), { what: 'a 429 again' });
    } finally {
      await down.close();
      await server.destroy();
    }
  });
});
