import { LeaseLostError } from '../../src/queue/queue-errors';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

const ERROR = 'lease expired: worker lost';
const DELAYS = [1000, 2000, 4000];

describe('recover.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /** recoverExpired with the given max stalls, and the Redis time window it ran in. */
  async function recover(q: QueueFixture, maxStalls = MAX_STALLS, limit = 100) {
    const from = await q.redisNow();
    const outcomes = await q.repo.recoverExpired(limit, ERROR, DELAYS, maxStalls);
    return { outcomes, from, to: await q.redisNow() };
  }

  function expectWithin(value: string | undefined, window: { from: number; to: number }): void {
    expect(Number(value)).toBeGreaterThanOrEqual(window.from);
    expect(Number(value)).toBeLessThanOrEqual(window.to);
  }

  describe('an attempt whose handler started', () => {
    it.each([
      { retriesSpent: 0, maxRetry: 3, delay: 1000 },
      { retriesSpent: 1, maxRetry: 3, delay: 2000 },
      { retriesSpent: 2, maxRetry: 3, delay: 4000 },
      // Beyond the delays given: the last one applies.
      { retriesSpent: 4, maxRetry: 6, delay: 4000 },
    ])(
      'is a failed attempt: after $retriesSpent retries it is retried $delay ms after the recovery',
      async ({ retriesSpent, maxRetry, delay }) => {
        const q = harness.queue();
        const lease = await q.leasedAfterRetries('a', retriesSpent, { maxRetry });
        await q.expire('a');
        await q.clearMarker();

        const run = await recover(q);

        expect(run.outcomes).toEqual([{ id: 'a', outcome: 'retry', retries: retriesSpent + 1 }]);
        const h = await q.hash('a');
        expect(h).toMatchObject({
          status: 'pending',
          retries: String(retriesSpent + 1),
          attempts: String(lease.token),
          error: ERROR,
          run_at: String(Number(h.updated_at) + delay),
        });
        expect(h.stalls).toBeUndefined();
        expectWithin(h.updated_at, run);
        expect(await q.score(q.keys.queue, 'a')).toBe(Number(h.run_at));
        expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'pending', { waiting: true }));
        expect(await q.markerSet()).toBe(true);
      },
    );

    it.each([
      { retriesSpent: 0, maxRetry: 0 },
      { retriesSpent: 2, maxRetry: 2 },
    ])('fails the task for good when its retries are spent ($retriesSpent of $maxRetry)', async ({ retriesSpent, maxRetry }) => {
      const q = harness.queue();
      await q.leasedAfterRetries('a', retriesSpent, { maxRetry });
      await q.expire('a');

      const run = await recover(q);

      expect(run.outcomes).toEqual([{ id: 'a', outcome: 'failed', retries: retriesSpent }]);
      const h = await q.hash('a');
      expect(h).toMatchObject({ status: 'failed', error: ERROR });
      // A task that never spent a retry has no retries field (STORE_TASK_DEFAULTS).
      expect(h.retries).toBe(retriesSpent === 0 ? undefined : String(retriesSpent));
      expectWithin(h.updated_at, run);
      expect(await q.score(q.keys.byStatus('failed'), 'a')).toBe(Number(h.updated_at));
      expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'failed'));
    });
  });

  describe('an attempt whose handler never started', () => {
    it.each([
      { what: 'a first attempt', retriesSpent: 0, maxRetry: 3 },
      { what: 'a task with max_retry 0', retriesSpent: 0, maxRetry: 0 },
      { what: 'an attempt after a retry (an earlier attempt started)', retriesSpent: 1, maxRetry: 1 },
    ])('goes back to pending at once, no retry spent, one stall counted: $what', async ({ retriesSpent, maxRetry }) => {
      const q = harness.queue();
      const lease = await q.leasedAfterRetries('a', retriesSpent, { maxRetry }, false);
      const before = await q.hash('a');
      await q.expire('a');
      await q.clearMarker();

      const run = await recover(q);

      expect(run.outcomes).toEqual([{ id: 'a', outcome: 'stalled', retries: retriesSpent }]);
      const h = await q.hash('a');
      // The lost attempt is the task's last ended one (attempt history): no start, no worker.
      const lost = { h_attempt: String(lease.token), h_outcome: 'lost', h_ended_at: h.updated_at, h_error: 'lease expired before the task started' };
      expect(h).toEqual({ ...before, status: 'pending', stalls: '1', updated_at: h.updated_at, ...lost });
      expect(h.attempts).toBe(String(lease.token));
      expectWithin(h.updated_at, run);
      // Queued at its creation time, like a requeue: ahead of anything that arrived after it.
      expect(await q.score(q.keys.queue, 'a')).toBe(Number(h.created_at));
      expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'pending'));
      expect(await q.markerSet()).toBe(true);
      expect((await q.repo.get('a'))?.stalls).toBe(1);
    });

    it.each([2, MAX_STALLS])('fails the task on the stall that would exceed %i, naming how often the lease expired', async (maxStalls) => {
      const q = harness.queue();
      await q.repo.enqueue([newTask({ id: 'a', type: 'job', maxRetry: 3 })]);
      for (let stall = 1; stall <= maxStalls; stall += 1) {
        await q.repo.fetch(1, LEASE_MS);
        await q.expire('a');
        expect((await recover(q, maxStalls)).outcomes).toEqual([{ id: 'a', outcome: 'stalled', retries: 0 }]);
      }
      await q.repo.fetch(1, LEASE_MS);
      await q.expire('a');

      const run = await recover(q, maxStalls);

      expect(run.outcomes).toEqual([{ id: 'a', outcome: 'failed', retries: 0 }]);
      const h = await q.hash('a');
      expect(h).toMatchObject({
        status: 'failed',
        attempts: String(maxStalls + 1),
        stalls: String(maxStalls + 1),
        error: `lease expired ${maxStalls + 1} times before the task started: worker lost`,
      });
      expect(h.retries).toBeUndefined(); // stalls spend no retry
      expectWithin(h.updated_at, run);
      expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'failed'));
    });

    it('stalls do not reset: a started attempt after a stall is a failed attempt, and the stall count stays', async () => {
      const q = harness.queue();
      await q.repo.enqueue([newTask({ id: 'a', type: 'job', maxRetry: 3 })]);
      await q.repo.fetch(1, LEASE_MS);
      await q.expire('a');
      await recover(q);
      const [second] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      await q.repo.start(second);
      await q.expire('a');

      expect((await recover(q)).outcomes).toEqual([{ id: 'a', outcome: 'retry', retries: 1 }]);
      expect(await q.hash('a')).toMatchObject({ status: 'pending', stalls: '1', retries: '1', attempts: '2', error: ERROR });
    });
  });

  it('leaves leases that have not expired untouched', async () => {
    const q = harness.queue();
    const [a] = await q.leased(2);
    await q.repo.start(a);
    const before = await q.dump();

    expect((await recover(q)).outcomes).toEqual([]);

    expect(await q.dump()).toEqual(before);
  });

  it('honours a heartbeat: a lease that ran out is not recovered once extended', async () => {
    const q = harness.queue();
    // A lease of 0 ms is expired as soon as it is taken.
    const [t] = await q.leased(1, {}, 0);
    await q.repo.start(t);
    expect(await q.repo.heartbeat([t], LEASE_MS)).toEqual([]);

    expect((await recover(q)).outcomes).toEqual([]);
    await q.expire(t.id);
    expect((await recover(q)).outcomes).toEqual([{ id: t.id, outcome: 'retry', retries: 1 }]);
  });

  it.each([
    {
      what: 'no task at all',
      arrange: async (q: QueueFixture) => {
        await q.redis.zadd(q.keys.active, 1000, 'ghost');
      },
    },
    {
      what: 'a pending task',
      arrange: async (q: QueueFixture) => {
        await q.repo.enqueue([newTask({ id: 'ghost' })]);
        await q.redis.zadd(q.keys.active, 1000, 'ghost');
      },
    },
    {
      what: 'a completed task',
      arrange: async (q: QueueFixture) => {
        const [t] = await q.leased(1, { id: 'ghost' });
        await q.repo.complete(t, 'ok');
        await q.redis.zadd(q.keys.active, 1000, 'ghost');
      },
    },
  ])('drops a lease entry with $what behind it, touching nothing else', async ({ arrange }) => {
    const q = harness.queue();
    await arrange(q);
    const before = await q.dump();
    delete (before as Record<string, unknown>).active;

    expect((await recover(q)).outcomes).toEqual([{ id: 'ghost', outcome: 'dropped', retries: -1 }]);

    expect(await q.redis.exists(q.keys.active)).toBe(0);
    expect(await q.dump()).toEqual(before);
  });

  it('recovers at most `limit` leases per call, earliest deadline first', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a' }), newTask({ id: 'b' }), newTask({ id: 'c' })]);
    await q.repo.fetch(3, LEASE_MS);
    // Expired deadlines in an order that differs from the ids' order.
    await q.redis.zadd(q.keys.active, 3000, 'c', 1000, 'a', 2000, 'b');

    const first = (await recover(q, MAX_STALLS, 2)).outcomes;
    expect(first.map((o) => o.id)).toEqual(['a', 'b']);
    expect(await q.redis.zrange(q.keys.active, 0, -1)).toEqual(['c']);
    expect((await q.hash('c')).status).toBe('processing');

    expect((await recover(q, MAX_STALLS, 2)).outcomes.map((o) => o.id)).toEqual(['c']);
  });

  it('fences the old worker out after recovery and hands the next attempt a higher token', async () => {
    const q = harness.queue();
    const [old] = await q.leased(1, { id: 'a' });
    await q.repo.start(old);
    await q.expire(old.id);
    await recover(q);

    await expect(q.repo.complete(old, 'late')).rejects.toBeInstanceOf(LeaseLostError);
    expect(await q.repo.heartbeat([old], LEASE_MS)).toEqual([{ id: old.id, token: old.token }]);

    await q.makeDue(old.id);
    const [fresh] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(fresh.id).toBe(old.id);
    expect(fresh.token).toBeGreaterThan(old.token);
    expect(fresh.retries).toBe(1);

    // The old worker is still fenced out while the new attempt runs, and cannot spoil it.
    await expect(q.repo.complete(old, 'late')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(q.repo.fail(old, 'late')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(q.repo.start(old)).rejects.toBeInstanceOf(LeaseLostError);
    expect((await q.hash(old.id)).status).toBe('processing');
    await q.repo.complete(fresh, 'fresh result');
    expect(await q.hash(old.id)).toMatchObject({ status: 'completed', result: 'fresh result', error: ERROR });
  });

  it('drops the processing listing indexes an older version kept (s:processing, st:processing:<type>), leases untouched', async () => {
    const q = harness.queue();
    const [job] = await q.leased(1, { id: 'job', type: 'job' });
    const [mail] = await q.leased(1, { id: 'mail', type: 'mail' });
    await q.repo.complete(mail, 'done');
    // As the old fetch wrote them (a process of the old version during a rolling upgrade, or data
    // stored before the upgrade), the finished task's entries left behind as well.
    const created = Number((await q.hash('job-0')).created_at);
    await q.redis.zadd(q.keys.byStatus('processing'), created, 'job-0', created, 'mail-0');
    await q.redis.zadd(q.keys.byStatusAndType('processing', 'job'), created, 'job-0');
    await q.redis.zadd(q.keys.byStatusAndType('processing', 'mail'), created, 'mail-0');
    const active = await q.redis.zrange(q.keys.active, 0, -1, 'WITHSCORES');

    expect((await q.repo.recoverDue(10, ERROR, DELAYS, MAX_STALLS)).outcomes).toEqual([]);

    expect(await q.redis.exists(q.keys.byStatus('processing'), q.keys.byStatusAndType('processing', 'job'), q.keys.byStatusAndType('processing', 'mail'))).toBe(0);
    expect(await q.redis.zrange(q.keys.active, 0, -1, 'WITHSCORES')).toEqual(active);
    expect(await q.footprint(job.id)).toEqual(q.expectedFootprint(job.id, 'processing'));
    expect(await q.footprint(mail.id)).toEqual(q.expectedFootprint(mail.id, 'completed'));
    expect((await q.repo.list({ status: 'processing' }, 10)).tasks.map((t) => t.id)).toEqual([job.id]);
  });

  describe('says when the next lease expires (the recoverer sleeps until then)', () => {
    it('none held: undefined; leases held: ms until the earliest deadline; expired ones left over: <= 0', async () => {
      const q = harness.queue();
      expect((await q.repo.recoverDue(10, ERROR, DELAYS, MAX_STALLS)).nextDeadlineInMs).toBeUndefined();

      const before = await q.redisNow();
      await q.leased(1, { id: 'long' }, LEASE_MS);
      await q.leased(1, { id: 'short' }, 4000);
      const quiet = await q.repo.recoverDue(10, ERROR, DELAYS, MAX_STALLS);
      const after = await q.redisNow();
      expect(quiet.outcomes).toEqual([]);
      expect(quiet.nextDeadlineInMs).toBeGreaterThan(0);
      expect(quiet.nextDeadlineInMs).toBeLessThanOrEqual(4000);
      expect(quiet.nextDeadlineInMs).toBeGreaterThanOrEqual(4000 - (after - before));

      await q.expire('short-0', 'long-0');
      const backlog = await q.repo.recoverDue(1, ERROR, DELAYS, MAX_STALLS);
      expect(backlog.outcomes).toHaveLength(1);
      expect(backlog.nextDeadlineInMs).toBeLessThanOrEqual(0);
      expect((await q.repo.recoverDue(10, ERROR, DELAYS, MAX_STALLS)).nextDeadlineInMs).toBeUndefined();
    });
  });
});
