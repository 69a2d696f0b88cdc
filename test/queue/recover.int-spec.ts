import { LeaseLostError } from '../../src/queue/queue-errors';
import { LeasedTask } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness, T0 } from '../support/queue-harness';

const ERROR = 'lease expired: worker lost';
const DELAYS = [1000, 2000, 4000];

/**
 * Leases task `id` after it has spent `retries` retries (each through fetch + retry), and returns the
 * current lease, taken at `now` with deadline now + LEASE_MS.
 */
async function leasedAfterRetries(q: QueueFixture, id: string, retries: number, maxRetry: number, now: number): Promise<LeasedTask> {
  await q.repo.enqueue([newTask({ id, type: 'job', maxRetry })], now);
  let [lease] = (await q.repo.fetch(1, now, now + LEASE_MS)).tasks;
  for (let i = 0; i < retries; i += 1) {
    await q.repo.retry(lease, `error ${i}`, now, now);
    [lease] = (await q.repo.fetch(1, now, now + LEASE_MS)).tasks;
  }
  expect(lease).toMatchObject({ id, retries });
  return lease;
}

describe('recover.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it.each([
    { retriesSpent: 0, maxRetry: 3, delay: 1000 },
    { retriesSpent: 1, maxRetry: 3, delay: 2000 },
    { retriesSpent: 2, maxRetry: 3, delay: 4000 },
    // Beyond the delays given: the last one applies.
    { retriesSpent: 4, maxRetry: 6, delay: 4000 },
  ])(
    'turns an expired lease after $retriesSpent retries into a retry delayed by $delay ms',
    async ({ retriesSpent, maxRetry, delay }) => {
      const q = harness.queue();
      const lease = await leasedAfterRetries(q, 'a', retriesSpent, maxRetry, T0);
      await q.clearMarker();
      const now = T0 + LEASE_MS + 1;

      expect(await q.repo.recoverExpired(now, 100, ERROR, DELAYS)).toEqual([
        { id: 'a', outcome: 'retry', retries: retriesSpent + 1 },
      ]);

      expect(await q.hash('a')).toMatchObject({
        status: 'pending',
        retries: String(retriesSpent + 1),
        attempts: String(lease.token),
        error: ERROR,
        run_at: String(now + delay),
        updated_at: String(now),
      });
      expect(await q.score(q.keys.queue, 'a')).toBe(now + delay);
      expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'job', 'pending'));
      expect(await q.markerSet()).toBe(true);
    },
  );

  it.each([
    { retriesSpent: 0, maxRetry: 0 },
    { retriesSpent: 2, maxRetry: 2 },
  ])('fails the task for good when its retries are spent ($retriesSpent of $maxRetry)', async ({ retriesSpent, maxRetry }) => {
    const q = harness.queue();
    await leasedAfterRetries(q, 'a', retriesSpent, maxRetry, T0);
    const now = T0 + LEASE_MS + 1;

    expect(await q.repo.recoverExpired(now, 100, ERROR, DELAYS)).toEqual([
      { id: 'a', outcome: 'failed', retries: retriesSpent },
    ]);

    expect(await q.hash('a')).toMatchObject({
      status: 'failed',
      retries: String(retriesSpent),
      error: ERROR,
      completed_at: String(now),
      updated_at: String(now),
    });
    expect(await q.score(q.keys.done, 'a')).toBe(now);
    expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'job', 'failed'));
  });

  it('leaves leases that have not expired untouched', async () => {
    const q = harness.queue();
    await q.leased(2);
    const before = await q.dump();

    expect(await q.repo.recoverExpired(T0 + LEASE_MS - 1, 100, ERROR, DELAYS)).toEqual([]);

    expect(await q.dump()).toEqual(before);
  });

  it('honours a heartbeat: an extended lease is not recovered at the old deadline', async () => {
    const q = harness.queue();
    const [t] = await q.leased(1);
    await q.repo.heartbeat([t], T0 + 2 * LEASE_MS);

    expect(await q.repo.recoverExpired(T0 + LEASE_MS + 1, 100, ERROR, DELAYS)).toEqual([]);
    expect(await q.repo.recoverExpired(T0 + 2 * LEASE_MS + 1, 100, ERROR, DELAYS)).toEqual([
      { id: t.id, outcome: 'retry', retries: 1 },
    ]);
  });

  it.each([
    {
      what: 'no task at all',
      arrange: async (q: QueueFixture) => {
        await q.redis.zadd(q.keys.active, T0, 'ghost');
      },
    },
    {
      what: 'a pending task',
      arrange: async (q: QueueFixture) => {
        await q.repo.enqueue([newTask({ id: 'ghost' })], T0);
        await q.redis.zadd(q.keys.active, T0, 'ghost');
      },
    },
    {
      what: 'a completed task',
      arrange: async (q: QueueFixture) => {
        const [t] = await q.leased(1, T0, { id: 'ghost' });
        await q.repo.complete(t, 'ok', T0 + 1);
        await q.redis.zadd(q.keys.active, T0, 'ghost');
      },
    },
  ])('drops a lease entry with $what behind it, touching nothing else', async ({ arrange }) => {
    const q = harness.queue();
    await arrange(q);
    const before = await q.dump();
    delete (before as Record<string, unknown>).active;

    expect(await q.repo.recoverExpired(T0 + LEASE_MS + 1, 100, ERROR, DELAYS)).toEqual([
      { id: 'ghost', outcome: 'dropped', retries: -1 },
    ]);

    expect(await q.redis.exists(q.keys.active)).toBe(0);
    expect(await q.dump()).toEqual(before);
  });

  it('recovers at most `limit` leases per call, earliest deadline first', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a' }), newTask({ id: 'b' }), newTask({ id: 'c' })], T0);
    await q.repo.fetch(3, T0, T0 + LEASE_MS);
    // Deadlines in an order that differs from the ids' order.
    await q.redis.zadd(q.keys.active, T0 + 3, 'c', T0 + 1, 'a', T0 + 2, 'b');

    const first = await q.repo.recoverExpired(T0 + LEASE_MS, 2, ERROR, DELAYS);
    expect(first.map((o) => o.id)).toEqual(['a', 'b']);
    expect(await q.redis.zrange(q.keys.active, 0, -1)).toEqual(['c']);
    expect((await q.hash('c')).status).toBe('processing');

    expect((await q.repo.recoverExpired(T0 + LEASE_MS, 2, ERROR, DELAYS)).map((o) => o.id)).toEqual(['c']);
  });

  it('fences the old worker out after recovery and hands the next attempt a higher token', async () => {
    const q = harness.queue();
    const [old] = await q.leased(1, T0, { id: 'a' });
    const now = T0 + LEASE_MS + 1;
    await q.repo.recoverExpired(now, 100, ERROR, DELAYS);

    await expect(q.repo.complete(old, 'late', now + 1)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await q.repo.heartbeat([old], now + LEASE_MS)).toEqual([old.id]);

    const runAt = now + DELAYS[0];
    const [fresh] = (await q.repo.fetch(1, runAt, runAt + LEASE_MS)).tasks;
    expect(fresh.id).toBe(old.id);
    expect(fresh.token).toBeGreaterThan(old.token);
    expect(fresh.retries).toBe(1);

    // The old worker is still fenced out while the new attempt runs, and cannot spoil it.
    await expect(q.repo.complete(old, 'late', runAt + 1)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(q.repo.fail(old, 'late', runAt + 1)).rejects.toBeInstanceOf(LeaseLostError);
    expect((await q.hash(old.id)).status).toBe('processing');
    await q.repo.complete(fresh, 'fresh result', runAt + 2);
    expect(await q.hash(old.id)).toMatchObject({ status: 'completed', result: 'fresh result', error: ERROR });
  });
});
