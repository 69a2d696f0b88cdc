import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** GET /stats: counts, the per-minute outcome counters (settle.lua, recover.lua), workers and Redis. */
describe('GET /stats', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('stats');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', FLAKY_FAILURE_RATE: '1' });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const stats = async () => (await request(t.http).get('/stats').expect(200)).body;

  it('starts empty, with 60 minutes of throughput, the live workers and Redis figures', async () => {
    const s = await stats();
    expect(s.counts).toEqual({ pending: 0, scheduled: 0, processing: 0, completed: 0, failed: 0 });
    expect(s.queues).toEqual([{ name: 'default', paused: false, counts: s.counts, latency_ms: 0 }]);
    expect(s.processed).toEqual({ last_minute: 0, last_hour: 0 });
    expect(s.failed).toEqual({ last_minute: 0, last_hour: 0 });
    expect(s.throughput).toHaveLength(60);
    const minutes = s.throughput.map((m: { minute: string }) => Date.parse(m.minute));
    for (let i = 1; i < minutes.length; i += 1) expect(minutes[i] - minutes[i - 1]).toBe(60_000);
    expect(s.latency_ms).toBe(0);
    await waitFor(async () => ((await stats()).workers === 1 ? true : undefined));
    expect(s.redis.version).toMatch(/^\d+\.\d+/);
    expect(s.redis.used_memory).toBeGreaterThan(0);
  });

  it('counts tasks as they complete and fail, by state and per minute', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await request(t.http).post('/tasks').send({ type: 'echo', payload: `e${i}` }).expect(201)).body.id);
    for (let i = 0; i < 2; i += 1) ids.push((await request(t.http).post('/tasks').send({ type: 'flaky', max_retry: 0 }).expect(201)).body.id);
    const scheduled = (await request(t.http).post('/tasks').send({ type: 'echo', payload: 'later', delay_ms: 3_600_000 }).expect(201)).body.id;
    await waitFor(async () => {
      const s = await stats();
      return s.counts.completed === 3 && s.counts.failed === 2 ? s : undefined;
    });
    const s = await stats();
    expect(s.counts).toEqual({ pending: 1, scheduled: 1, processing: 0, completed: 3, failed: 2 });
    expect(s.queues[0].counts).toEqual(s.counts);
    expect(s.processed.last_hour).toBe(5);
    expect(s.failed.last_hour).toBe(2);
    // The current minute always counts in full; a minute boundary between the tasks and the read prorates only the earlier part.
    expect(s.processed.last_minute).toBeGreaterThan(0);
    expect(s.processed.last_minute).toBeLessThanOrEqual(5);
    const sum = (k: 'completed' | 'failed') => s.throughput.reduce((n: number, m: Record<string, number>) => n + m[k], 0);
    expect([sum('completed'), sum('failed')]).toEqual([3, 2]);
    // Each minute's counters expire (about two hours after their first write).
    for (const m of s.throughput.filter((e: { completed: number; failed: number }) => e.completed + e.failed > 0)) {
      const ttl = await redis.ttl(t.queue.keys.stats(Date.parse(m.minute) / 60_000));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7200);
    }
    await request(t.http).delete(`/tasks/${scheduled}`).expect(204);
  });

  it('counts a task the recoverer fails (its lease expired with no retry left)', async () => {
    // An API-only app on its own prefix: no worker takes the task, the spec leases it.
    const api = await createTestApp({ QUEUE_PREFIX: `${prefix}-recover`, APP_ROLE: 'api' });
    try {
      await request(api.http).post('/tasks').send({ type: 'echo', payload: 'x', max_retry: 0 }).expect(201);
      const { tasks } = await api.queue.fetch(1, 1);
      await api.queue.start(tasks[0]);
      const outcomes = await waitFor(async () => {
        const found = await api.queue.recoverExpired(10, 'lease expired', [0], 3);
        return found.length > 0 ? found : undefined;
      });
      expect(outcomes.map((o) => o.outcome)).toEqual(['failed']);
      const s = (await request(api.http).get('/stats').expect(200)).body;
      expect([s.processed.last_hour, s.failed.last_hour, s.counts.failed]).toEqual([1, 1, 1]);
    } finally {
      await api.close();
      await deleteByPrefix(redis, `${prefix}-recover`);
    }
  });
});
