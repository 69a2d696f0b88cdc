import { LeaseLostError, TaskNotFoundError } from '../../src/queue/queue-errors';
import { Lease } from '../../src/queue/queue.repository';
import { LEASE_MS, newTask, QueueFixture, QueueHarness, T0 } from '../support/queue-harness';

const DELAYS = [1000, 2000, 4000];

/** Ways a worker can lose the lease it holds on task `<id>-0`; each returns the stale lease. */
const LOST_LEASES: Record<string, (q: QueueFixture) => Promise<{ lease: Lease; deleted?: boolean }>> = {
  'a token never handed out': async (q) => {
    const [t] = await q.leased(1, T0, { id: 'x' });
    return { lease: { id: t.id, token: t.token + 1 } };
  },
  'the token of an earlier attempt (task re-leased)': async (q) => {
    const [t] = await q.leased(1, T0, { id: 'x' });
    await q.repo.requeue(t, T0 + 10);
    const [again] = (await q.repo.fetch(1, T0 + 20, T0 + 20 + LEASE_MS)).tasks;
    expect(again.token).toBe(t.token + 1);
    return { lease: t };
  },
  'a lease the recoverer took away': async (q) => {
    const [t] = await q.leased(1, T0, { id: 'x' });
    await q.repo.recoverExpired(T0 + LEASE_MS + 1, 10, 'lease expired: worker lost', DELAYS);
    return { lease: t };
  },
  'a lease already used to complete the task': async (q) => {
    const [t] = await q.leased(1, T0, { id: 'x' });
    await q.repo.complete(t, 'first', T0 + 10);
    return { lease: t };
  },
  'a task deleted while running': async (q) => {
    const [t] = await q.leased(1, T0, { id: 'x' });
    await q.repo.delete(t.id);
    return { lease: t, deleted: true };
  },
};

/** The four fenced writes of a worker. */
const WRITES: Record<string, (q: QueueFixture, lease: Lease, now: number) => Promise<void>> = {
  complete: (q, lease, now) => q.repo.complete(lease, 'late result', now),
  retry: (q, lease, now) => q.repo.retry(lease, 'late error', now, now + 1000),
  fail: (q, lease, now) => q.repo.fail(lease, 'late error', now),
  requeue: (q, lease, now) => q.repo.requeue(lease, now),
};

describe('lease scripts: heartbeat.lua, settle.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  describe('heartbeat', () => {
    it('extends the deadline of every lease still held and changes nothing else', async () => {
      const q = harness.queue();
      const leases = await q.leased(3);
      const hashesBefore = await Promise.all(leases.map((l) => q.hash(l.id)));

      expect(await q.repo.heartbeat(leases, T0 + 90_000)).toEqual([]);

      for (const l of leases) expect(await q.score(q.keys.active, l.id)).toBe(T0 + 90_000);
      expect(await Promise.all(leases.map((l) => q.hash(l.id)))).toEqual(hashesBefore);
    });

    it('returns nothing and calls nothing for no leases', async () => {
      const q = harness.queue();
      expect(await q.repo.heartbeat([], T0)).toEqual([]);
    });

    it.each(Object.keys(LOST_LEASES))('reports the lease as lost for %s, and still extends the others', async (name) => {
      const q = harness.queue();
      // Held with a long lease, so the recoverer of one scenario leaves it alone.
      await q.repo.enqueue([newTask({ id: 'held' })], T0);
      const [held] = (await q.repo.fetch(1, T0, T0 + 100 * LEASE_MS)).tasks;
      const { lease } = await LOST_LEASES[name](q);
      const activeBefore = await q.score(q.keys.active, lease.id);

      expect(await q.repo.heartbeat([held, lease], T0 + 90_000)).toEqual([lease.id]);

      expect(await q.score(q.keys.active, held.id)).toBe(T0 + 90_000);
      // The lost lease is not extended (nor re-created).
      expect(await q.score(q.keys.active, lease.id)).toBe(activeBefore);
    });

    it('does not recreate a deleted task', async () => {
      const q = harness.queue();
      const { lease } = await LOST_LEASES['a task deleted while running'](q);
      await q.repo.heartbeat([lease], T0 + 90_000);
      expect(await q.footprint(lease.id)).toEqual([]);
    });
  });

  describe('complete', () => {
    it('completes the task with its result and moves it to the done zset and completed indexes', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, T0, { type: 'email', maxRetry: 2 });
      const now = T0 + 700;

      await q.repo.complete(t, '{"sent":true}', now);

      expect(await q.hash(t.id)).toEqual({
        type: 'email',
        payload: expect.any(String),
        status: 'completed',
        retries: '0',
        max_retry: '2',
        attempts: '1',
        created_at: String(T0),
        started_at: String(T0),
        updated_at: String(now),
        completed_at: String(now),
        result: '{"sent":true}',
      });
      expect(await q.score(q.keys.done, t.id)).toBe(now);
      expect(await q.score(q.keys.byStatus('completed'), t.id)).toBe(T0);
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'email', 'completed'));
    });
  });

  describe('retry', () => {
    it('spends a retry: pending until run_at, with the error, queued at score run_at, marker set', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, T0, { type: 'email', maxRetry: 2 });
      await q.clearMarker();
      const now = T0 + 100;
      const runAt = now + 5000;

      await q.repo.retry(t, 'boom', now, runAt);

      expect(await q.hash(t.id)).toEqual({
        type: 'email',
        payload: expect.any(String),
        status: 'pending',
        retries: '1',
        max_retry: '2',
        attempts: '1',
        error: 'boom',
        run_at: String(runAt),
        created_at: String(T0),
        started_at: String(T0),
        updated_at: String(now),
      });
      expect(await q.score(q.keys.queue, t.id)).toBe(runAt);
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'email', 'pending'));
      expect(await q.markerSet()).toBe(true);

      // Not before run_at; then leased again with the next token and the retry counted.
      expect(await q.repo.fetch(1, runAt - 1, runAt - 1 + LEASE_MS)).toEqual({ tasks: [], nextRunAt: runAt });
      const [again] = (await q.repo.fetch(1, runAt, runAt + LEASE_MS)).tasks;
      expect(again).toMatchObject({ id: t.id, token: 2, retries: 1, maxRetry: 2 });
      expect((await q.hash(t.id)).run_at).toBeUndefined();
    });
  });

  describe('fail', () => {
    it('ends the task as failed with its error, in the done zset and failed indexes, no retry spent', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, T0, { type: 'report', maxRetry: 5 });
      const now = T0 + 300;

      await q.repo.fail(t, 'fatal: bad input', now);

      expect(await q.hash(t.id)).toMatchObject({
        status: 'failed',
        error: 'fatal: bad input',
        retries: '0',
        attempts: '1',
        completed_at: String(now),
        updated_at: String(now),
      });
      expect(await q.score(q.keys.done, t.id)).toBe(now);
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'report', 'failed'));
    });
  });

  describe('requeue', () => {
    it('returns the task to pending at its creation time without spending a retry, keeping the last error', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, T0, { id: 'old', type: 'email', maxRetry: 3 });
      await q.repo.retry(t, 'first error', T0 + 10, T0 + 20);
      const [second] = (await q.repo.fetch(1, T0 + 20, T0 + 20 + LEASE_MS)).tasks;
      await q.repo.enqueue([newTask({ id: 'new' })], T0 + 50);
      await q.clearMarker();

      await q.repo.requeue(second, T0 + 100);

      expect(await q.hash(second.id)).toMatchObject({
        status: 'pending',
        retries: '1',
        attempts: '2',
        error: 'first error',
        updated_at: String(T0 + 100),
      });
      expect(await q.score(q.keys.queue, second.id)).toBe(T0);
      expect(await q.footprint(second.id)).toEqual(q.expectedFootprint(second.id, 'email', 'pending'));
      expect(await q.markerSet()).toBe(true);
      // It goes ahead of the task that arrived after it, with a fresh token.
      const [next] = (await q.repo.fetch(1, T0 + 200, T0 + 200 + LEASE_MS)).tasks;
      expect(next).toMatchObject({ id: second.id, token: 3, retries: 1 });
    });
  });

  describe('fencing', () => {
    const cases = Object.keys(WRITES).flatMap((write) => Object.keys(LOST_LEASES).map((lost) => ({ write, lost })));

    it.each(cases)('$write with $lost is rejected and changes nothing', async ({ write, lost }) => {
      const q = harness.queue();
      const { lease, deleted } = await LOST_LEASES[lost](q);
      const before = await q.dump();

      await expect(WRITES[write](q, lease, T0 + 5000)).rejects.toBeInstanceOf(
        deleted ? TaskNotFoundError : LeaseLostError,
      );

      expect(await q.dump()).toEqual(before);
      if (deleted) expect(await q.footprint(lease.id)).toEqual([]);
    });

    it.each(Object.keys(WRITES))('%s of a task that never existed is TaskNotFoundError and creates nothing', async (write) => {
      const q = harness.queue();
      await expect(WRITES[write](q, { id: 'nope', token: 1 }, T0)).rejects.toBeInstanceOf(TaskNotFoundError);
      expect(await q.allKeys()).toEqual([]);
    });

    it.each(Object.keys(WRITES))('%s with the current token succeeds after an older token was rejected', async (write) => {
      const q = harness.queue();
      const { lease: stale } = await LOST_LEASES['the token of an earlier attempt (task re-leased)'](q);
      await expect(WRITES[write](q, stale, T0 + 30)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(WRITES[write](q, { id: stale.id, token: stale.token + 1 }, T0 + 40)).resolves.toBeUndefined();
      expect((await q.hash(stale.id)).status).not.toBe('processing');
      expect(await q.score(q.keys.active, stale.id)).toBeNull();
    });
  });

  describe('settle (batched outcomes)', () => {
    it('applies every outcome of a batch in one call, each fenced on its own, and reports each in order', async () => {
      const q = harness.queue();
      const [a, b, c, d, e] = await q.leased(5, T0, { id: 'batch' });
      await q.repo.delete(e.id);
      await q.clearMarker();

      const results = await q.repo.settle(
        [
          { lease: a, mode: 'complete', text: 'done a' },
          { lease: b, mode: 'retry', text: 'boom b', delayMs: 1900 },
          { lease: c, mode: 'fail', text: 'fatal c' },
          { lease: { id: d.id, token: d.token + 7 }, mode: 'complete', text: 'stale d' },
          { lease: e, mode: 'complete', text: 'deleted e' },
        ],
        T0 + 100,
      );

      expect(results).toEqual(['applied', 'applied', 'applied', 'lease-lost', 'not-found']);
      expect(await q.hash(a.id)).toMatchObject({ status: 'completed', result: 'done a' });
      expect(await q.hash(b.id)).toMatchObject({ status: 'pending', retries: '1', error: 'boom b', run_at: String(T0 + 2000) });
      expect(await q.hash(c.id)).toMatchObject({ status: 'failed', error: 'fatal c' });
      expect(await q.hash(d.id)).toMatchObject({ status: 'processing' });
      expect(await q.footprint(e.id)).toEqual([]);
      expect(await q.footprint(a.id)).toEqual(q.expectedFootprint(a.id, 'email', 'completed'));
      expect(await q.footprint(b.id)).toEqual(q.expectedFootprint(b.id, 'email', 'pending'));
      expect(await q.footprint(c.id)).toEqual(q.expectedFootprint(c.id, 'email', 'failed'));
      expect(await q.footprint(d.id)).toEqual(q.expectedFootprint(d.id, 'email', 'processing'));
      // One retry in the batch: the wake-up marker is set (once) so idle workers re-plan their wait.
      expect(await q.markerSet()).toBe(true);
    });

    it('a batch of completions only does not wake idle workers', async () => {
      const q = harness.queue();
      const tasks = await q.leased(3, T0, { id: 'quiet' });
      await q.clearMarker();
      const results = await q.repo.settle(tasks.map((t) => ({ lease: t, mode: 'complete' as const, text: 'ok' })), T0 + 1);
      expect(results).toEqual(['applied', 'applied', 'applied']);
      expect(await q.markerSet()).toBe(false);
    });
  });
});
