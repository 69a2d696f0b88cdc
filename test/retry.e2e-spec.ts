import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * The full retry path with the real default backoff (1 s, 2 s, 4 s): a task that always fails is
 * retried three times and then fails permanently with the last error. Each wait is checked from the
 * stored run_at (exact) and from when the next attempt really started (never early).
 */
describe('retries with real exponential backoff', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('retry');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', FLAKY_FAILURE_RATE: '1', RETRY_BASE_DELAY_MS: '1000' });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('waits 1 s, 2 s, 4 s between attempts, then fails with the last error', async () => {
    const { body } = await request(t.http).post('/tasks').send({ type: 'flaky', payload: 'x', max_retry: 3 }).expect(201);
    const key = `${prefix}:{default}:t:${body.id}`;
    const waits: Array<{ retries: number; failedAt: number; runAt: number; nextStartedAt?: number }> = [];

    for (const retries of [1, 2, 3]) {
      const h = await waitFor(
        async () => {
          const hash = await redis.hgetall(key);
          return Number(hash.retries) === retries && hash.status === 'pending' ? hash : undefined;
        },
        { timeoutMs: 12_000, intervalMs: 10, what: `retry ${retries} to be scheduled` },
      );
      // While waiting, the API shows the task as pending with run_at and the last error.
      const api = await request(t.http).get(`/tasks/${body.id}`).expect(200);
      expect(api.body).toMatchObject({ status: 'pending', retries });
      expect(api.body.run_at).toBe(new Date(Number(h.run_at)).toISOString());
      expect(api.body.error).toMatch(/simulated failure/);
      waits.push({ retries, failedAt: Number(h.updated_at), runAt: Number(h.run_at) });
      const started = await waitFor(
        async () => {
          // `started` is the token of the attempt whose handler started (leasing alone is not starting).
          const s = await redis.hmget(key, 'started', 'started_at');
          return Number(s[0]) === retries + 1 ? Number(s[1]) : undefined;
        },
        { timeoutMs: 12_000, intervalMs: 10, what: `attempt ${retries + 1} to start` },
      );
      waits[waits.length - 1].nextStartedAt = started;
    }

    const final = await waitFor(
      async () => {
        const res = await request(t.http).get(`/tasks/${body.id}`);
        return res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 5000, what: 'permanent failure' },
    );
    expect(final).toMatchObject({ status: 'failed', retries: 3, max_retry: 3, attempts: 4 });
    expect(final.error).toBe('flaky task failed on attempt 4 (simulated failure)');
    expect(final).not.toHaveProperty('result');

    expect(waits.map((w) => w.runAt - w.failedAt)).toEqual([1000, 2000, 4000]);
    for (const w of waits) {
      expect(w.nextStartedAt).toBeGreaterThanOrEqual(w.runAt);
      // Loose upper bound: a due task is picked up promptly, not at the next 5 s idle wake-up.
      expect((w.nextStartedAt as number) - w.runAt).toBeLessThan(1000);
    }
  }, 30_000);

  it('max_retry 0 fails at the first error; unknown types in the queue fail without retries', async () => {
    const { body } = await request(t.http).post('/tasks').send({ type: 'flaky', max_retry: 0 }).expect(201);
    const failed = await waitFor(async () => {
      const res = await request(t.http).get(`/tasks/${body.id}`);
      return res.body.status === 'failed' ? res.body : undefined;
    });
    expect(failed).toMatchObject({ retries: 0, attempts: 1 });

    // A task whose type has no handler here (e.g. enqueued by a newer API version): non-retryable.
    const id = '3b1f8a52-7f5e-4c3e-9a55-0d6f4e2f7c10';
    await t.queue.enqueue([{ id, type: 'ghost', payload: '', maxRetry: 5 }]);
    const ghost = await waitFor(async () => {
      const res = await request(t.http).get(`/tasks/${id}`);
      return res.body.status === 'failed' ? res.body : undefined;
    });
    expect(ghost).toMatchObject({ retries: 0, attempts: 1 });
    expect(ghost.error).toMatch(/unknown task type "ghost"/);
  });
});
