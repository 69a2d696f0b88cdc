import { expandTaskHash } from '../../src/queue/compact-task';
import { LeaseLostError, TaskNotFoundError } from '../../src/queue/queue-errors';
import { Lease, Settlement } from '../../src/queue/queue.repository';
import { newTaskId } from '../../src/queue/task-id';
import { MAX_STALLS } from '../../src/queue/task-limits';
import type { LeasedTask } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';
import { delay } from '../support/wait';

const DELAYS = [1000, 2000, 4000];
const RECOVERER_ERROR = 'lease expired: worker lost';

/** Ways a worker can lose the lease it holds on task `x-0`; each returns the stale lease. */
const LOST_LEASES: Record<string, (q: QueueFixture) => Promise<{ lease: Lease; deleted?: boolean }>> = {
  'a token never handed out': async (q) => {
    const [t] = await q.leased(1, { id: 'x' });
    return { lease: { id: t.id, token: t.token + 1 } };
  },
  'the token of an earlier attempt (task re-leased)': async (q) => {
    const [t] = await q.leased(1, { id: 'x' });
    await q.repo.requeue(t);
    const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(again.token).toBe(t.token + 1);
    return { lease: t };
  },
  'a started lease the recoverer took away (retry)': async (q) => {
    const [t] = await q.leased(1, { id: 'x' });
    await q.repo.start(t);
    await q.expire(t.id);
    expect(await q.repo.recoverExpired(10, RECOVERER_ERROR, DELAYS, MAX_STALLS)).toEqual([{ id: t.id, outcome: 'retry', retries: 1 }]);
    return { lease: t };
  },
  'a lease the recoverer took away before it started (stalled)': async (q) => {
    const [t] = await q.leased(1, { id: 'x' });
    await q.expire(t.id);
    expect(await q.repo.recoverExpired(10, RECOVERER_ERROR, DELAYS, MAX_STALLS)).toEqual([{ id: t.id, outcome: 'stalled', retries: 0 }]);
    return { lease: t };
  },
  'a lease already used to complete the task': async (q) => {
    const [t] = await q.leased(1, { id: 'x' });
    await q.repo.complete(t, 'first');
    return { lease: t };
  },
  'a task deleted while running': async (q) => {
    const [t] = await q.leased(1, { id: 'x' });
    await q.repo.delete(t.id);
    return { lease: t, deleted: true };
  },
};

/** The fenced writes of a worker. */
const WRITES: Record<string, (q: QueueFixture, lease: Lease) => Promise<void>> = {
  start: (q, lease) => q.repo.start(lease),
  complete: (q, lease) => q.repo.complete(lease, 'late result'),
  retry: (q, lease) => q.repo.retry(lease, 'late error', 1000),
  fail: (q, lease) => q.repo.fail(lease, 'late error'),
  requeue: (q, lease) => q.repo.requeue(lease),
};

/**
 * The one pair where a "late" write finds the task exactly as the write would leave it: a requeue of
 * an attempt the recoverer already put back to pending (it never started) is answered as applied.
 */
const SAME_END_STATE = new Set(['requeue|a lease the recoverer took away before it started (stalled)']);

describe('lease scripts: heartbeat.lua, settle.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /** Runs `write` and returns the Redis time window it ran in. */
  async function timed(q: QueueFixture, write: () => Promise<unknown>): Promise<{ from: number; to: number }> {
    const from = await q.redisNow();
    await write();
    return { from, to: await q.redisNow() };
  }

  function expectWithin(value: string | number | null | undefined, window: { from: number; to: number }, plus = 0): void {
    expect(Number(value)).toBeGreaterThanOrEqual(window.from + plus);
    expect(Number(value)).toBeLessThanOrEqual(window.to + plus);
  }

  describe('heartbeat', () => {
    it('extends every lease still held to Redis now + leaseMs and changes nothing else', async () => {
      const q = harness.queue();
      const leases = await q.leased(3);
      const hashesBefore = await Promise.all(leases.map((l) => q.hash(l.id)));

      let lost: Lease[] = [];
      const window = await timed(q, async () => {
        lost = await q.repo.heartbeat(leases, 90_000);
      });

      expect(lost).toEqual([]);
      const deadline = await q.score(q.keys.active, leases[0].id);
      expectWithin(deadline, window, 90_000);
      for (const l of leases) expect(await q.score(q.keys.active, l.id)).toBe(deadline);
      expect(await Promise.all(leases.map((l) => q.hash(l.id)))).toEqual(hashesBefore);
    });

    it('returns nothing and calls nothing for no leases', async () => {
      const q = harness.queue();
      expect(await q.repo.heartbeat([], LEASE_MS)).toEqual([]);
    });

    it.each(Object.keys(LOST_LEASES))('reports the (id, token) of the lease lost for %s, and still extends the others', async (name) => {
      const q = harness.queue();
      await q.repo.enqueue([newTask({ id: 'held' })]);
      const [held] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      const { lease } = await LOST_LEASES[name](q);
      const activeBefore = await q.score(q.keys.active, lease.id);

      let lost: Lease[] = [];
      const window = await timed(q, async () => {
        lost = await q.repo.heartbeat([held, lease], 90_000);
      });

      expect(lost).toEqual([{ id: lease.id, token: lease.token }]);
      expectWithin(await q.score(q.keys.active, held.id), window, 90_000);
      // The lost lease is not extended (nor re-created).
      expect(await q.score(q.keys.active, lease.id)).toBe(activeBefore);
    });

    it('tells two attempts of one id apart: only the stale token is reported lost', async () => {
      const q = harness.queue();
      const { lease: stale } = await LOST_LEASES['the token of an earlier attempt (task re-leased)'](q);
      const current = { id: stale.id, token: stale.token + 1 };

      expect(await q.repo.heartbeat([stale, current], LEASE_MS)).toEqual([{ id: stale.id, token: stale.token }]);
      expect((await q.hash(stale.id)).status).toBe('processing');
    });

    it('does not recreate a deleted task', async () => {
      const q = harness.queue();
      const { lease } = await LOST_LEASES['a task deleted while running'](q);
      await q.repo.heartbeat([lease], 90_000);
      expect(await q.footprint(lease.id)).toEqual([]);
    });
  });

  describe('start', () => {
    it('records the handler start (started_at = Redis now, started = token) and nothing else', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1);
      const before = await q.hash(t.id);
      const deadline = await q.score(q.keys.active, t.id);

      const window = await timed(q, () => q.repo.start(t));

      const after = await q.hash(t.id);
      expectWithin(after.started_at, window);
      expect(after).toEqual({ ...before, started_at: after.started_at, started: String(t.token), worker: '' });
      expect(await q.score(q.keys.active, t.id)).toBe(deadline);
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'processing'));
    });

    it('is idempotent: a repeated start keeps the first start time', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1);
      await q.repo.start(t);
      const first = await q.hash(t.id);
      while ((await q.redisNow()) <= Number(first.started_at)) await delay(2);

      await q.repo.start(t);

      expect(await q.hash(t.id)).toEqual(first);
    });
  });

  describe('complete', () => {
    it('completes the task with its result and moves it to s:completed, scored by its finish time', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, { type: 'email', maxRetry: 2 });
      await q.repo.start(t);
      const { created_at: createdAt, started_at: startedAt } = await q.hash(t.id);

      const window = await timed(q, () => q.repo.complete(t, '{"sent":true}'));

      const h = await q.hash(t.id);
      expect(h).toEqual({
        type: 'email',
        payload: expect.any(String),
        status: 'completed',
        // No retries: a new task has none until one is spent (STORE_TASK_DEFAULTS).
        max_retry: '2',
        attempts: '1',
        started: '1',
        worker: '',
        created_at: createdAt,
        started_at: startedAt,
        // The finish time; no completed_at field, and no h_* field: the completing attempt, for the
        // history, is read from the task itself.
        updated_at: expect.any(String),
        result: '{"sent":true}',
      });
      expectWithin(h.updated_at, window);
      expect(await q.score(q.keys.byStatus('completed'), t.id)).toBe(Number(h.updated_at));
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'completed'));
    });
  });

  describe('retry', () => {
    it('spends a retry: pending for delayMs from the write, with the error, queued at score run_at, marker set', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, { type: 'email', maxRetry: 2 });
      await q.repo.start(t);
      const { created_at: createdAt, started_at: startedAt } = await q.hash(t.id);
      await q.clearMarker();

      const window = await timed(q, () => q.repo.retry(t, 'boom', 5000));

      const h = await q.hash(t.id);
      expect(h).toEqual({
        type: 'email',
        payload: expect.any(String),
        status: 'pending',
        retries: '1',
        max_retry: '2',
        attempts: '1',
        started: '1',
        worker: '',
        error: 'boom',
        run_at: String(Number(h.updated_at) + 5000),
        created_at: createdAt,
        started_at: startedAt,
        updated_at: expect.any(String),
        // The ended attempt, for the history; its error is the task's error field.
        h_attempt: '1',
        h_outcome: 'retry',
        h_ended_at: h.updated_at,
        h_error: '=',
      });
      expectWithin(h.updated_at, window);
      expect(await q.score(q.keys.queue, t.id)).toBe(Number(h.run_at));
      // Queued at another time than its creation: also in s:pending, by creation time.
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'pending', { waiting: true }));
      expect(await q.score(q.keys.byStatus('pending'), t.id)).toBe(Number(h.created_at));
      expect(await q.markerSet()).toBe(true);

      // Not before run_at; then leased again with the next token and the retry counted.
      const early = await q.repo.fetch(1, LEASE_MS);
      expect(early.tasks).toEqual([]);
      expect(early.nextRunInMs).toBeGreaterThan(0);
      expect(early.nextRunInMs).toBeLessThanOrEqual(5000);
      await q.makeDue(t.id);
      const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      expect(again).toMatchObject({ id: t.id, token: 2, retries: 1, maxRetry: 2 });
      expect((await q.hash(t.id)).run_at).toBeUndefined();
    });
  });

  describe('fail', () => {
    it('ends the task as failed with its error, in s:failed scored by its finish time, no retry spent', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, { type: 'report', maxRetry: 5 });

      const window = await timed(q, () => q.repo.fail(t, 'fatal: bad input'));

      const h = await q.hash(t.id);
      expect(h).toMatchObject({ status: 'failed', error: 'fatal: bad input', attempts: '1' });
      expect(h.retries).toBeUndefined(); // none spent: the field a new task leaves out
      expect(h.completed_at).toBeUndefined();
      expectWithin(h.updated_at, window);
      expect(await q.score(q.keys.byStatus('failed'), t.id)).toBe(Number(h.updated_at));
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'failed'));
    });
  });

  describe('requeue', () => {
    it('returns the task to pending at its creation time without spending a retry, keeping the last error', async () => {
      const q = harness.queue();
      const [t] = await q.leased(1, { id: 'old', type: 'email', maxRetry: 3 });
      const createdAt = Number((await q.hash(t.id)).created_at);
      await q.repo.retry(t, 'first error', 0);
      const [second] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      expect(second.id).toBe(t.id);
      await q.repo.enqueue([newTask({ id: 'new' })]);
      await q.clearMarker();

      const window = await timed(q, () => q.repo.requeue(second));

      const h = await q.hash(second.id);
      expect(h).toMatchObject({ status: 'pending', retries: '1', attempts: '2', error: 'first error' });
      expectWithin(h.updated_at, window);
      expect(await q.score(q.keys.queue, second.id)).toBe(createdAt);
      expect(await q.footprint(second.id)).toEqual(q.expectedFootprint(second.id, 'pending'));
      expect(await q.markerSet()).toBe(true);
      // It goes ahead of the task that arrived after it, with a fresh token.
      const [next] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      expect(next).toMatchObject({ id: second.id, token: 3, retries: 1 });
    });
  });

  describe('fencing', () => {
    const cases = Object.keys(WRITES).flatMap((write) => Object.keys(LOST_LEASES).map((lost) => ({ write, lost })));

    it.each(cases)('$write with $lost is rejected and changes nothing', async ({ write, lost }) => {
      const q = harness.queue();
      const { lease, deleted } = await LOST_LEASES[lost](q);
      const before = await q.dump();

      const result = WRITES[write](q, lease);

      const outcome = await result.then(
        (value) => ({ resolved: value }),
        (err: unknown) => ({ rejected: (err as Error).constructor }),
      );
      expect(outcome).toEqual(
        SAME_END_STATE.has(`${write}|${lost}`) ? { resolved: undefined } : { rejected: deleted ? TaskNotFoundError : LeaseLostError },
      );
      expect(await q.dump()).toEqual(before);
      expect(deleted ? await q.footprint(lease.id) : []).toEqual([]);
    });

    it.each(Object.keys(WRITES))('%s of a task that never existed is TaskNotFoundError and creates nothing', async (write) => {
      const q = harness.queue();
      await expect(WRITES[write](q, { id: 'nope', token: 1 })).rejects.toBeInstanceOf(TaskNotFoundError);
      expect(await q.allKeys()).toEqual([]);
    });

    it.each(Object.keys(WRITES))('%s with the current token succeeds after an older token was rejected', async (write) => {
      const q = harness.queue();
      const { lease: stale } = await LOST_LEASES['the token of an earlier attempt (task re-leased)'](q);
      await expect(WRITES[write](q, stale)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(WRITES[write](q, { id: stale.id, token: stale.token + 1 })).resolves.toBeUndefined();
      const hash = await q.hash(stale.id);
      const state = { processing: hash.status === 'processing', leased: (await q.score(q.keys.active, stale.id)) !== null, started: hash.started };
      // 'start' records the handler start of the running attempt; every other write ends the attempt.
      expect(state).toEqual(
        write === 'start' ? { processing: true, leased: true, started: String(stale.token + 1) } : { processing: false, leased: false, started: state.started },
      );
    });
  });

  describe('a settle repeated after its reply was lost', () => {
    const MODES: Array<Omit<Settlement, 'lease'>> = [
      { mode: 'complete', text: 'the result' },
      { mode: 'retry', text: 'the error', delayMs: 60_000 },
      { mode: 'fail', text: 'the error' },
      { mode: 'requeue', text: '' },
      { mode: 'start', text: '' },
    ];

    it.each(MODES)('$mode: the second call is answered applied and writes nothing', async (write) => {
      const q = harness.queue();
      const [t] = await q.leased(1);
      await q.repo.start(t);
      expect(await q.repo.settle([{ lease: t, ...write }])).toEqual(['applied']);
      const after = await q.dump();

      expect(await q.repo.settle([{ lease: t, ...write }])).toEqual(['applied']);

      expect(await q.dump()).toEqual(after);
    });

    it.each([
      { mode: 'complete', text: 'the result', status: 'completed' },
      { mode: 'fail', text: 'the error', status: 'failed' },
      { mode: 'retry', text: 'the error', delayMs: 60_000, status: 'pending' },
      { mode: 'requeue', text: '', status: 'pending' },
    ] as Array<Omit<Settlement, 'lease'> & { status: 'completed' | 'failed' | 'pending' }>)(
      '$mode: a call stopped after it wrote the task (a script refused mid-way in a slot move) is completed by the repeat',
      async ({ status, ...write }) => {
        const q = harness.queue();
        const [t] = await q.leased(1);
        await q.repo.start(t);
        expect(await q.repo.settle([{ lease: t, ...write }])).toEqual(['applied']);
        const after = await q.dump();
        // What a call refused after the task's own write leaves at the worst: the task written, still in
        // `active`, not in its status index (nor, when it went back to pending, in the queue).
        await q.redis.zadd(q.keys.active, Date.now() + LEASE_MS, t.id);
        await q.redis.zrem(q.keys.byStatus(status), t.id);
        await q.redis.zrem(q.keys.queue, t.id);

        expect(await q.repo.settle([{ lease: t, ...write }])).toEqual(['applied']);

        expect(await q.dump()).toEqual(after);
      },
    );

    it('a batch of start and outcome, repeated whole, is answered as applied again', async () => {
      const q = harness.queue();
      const [a, b] = await q.leased(2);
      const batch: Settlement[] = [
        { lease: a, mode: 'start', text: '' },
        { lease: a, mode: 'complete', text: 'ok' },
        { lease: b, mode: 'start', text: '' },
        { lease: b, mode: 'retry', text: 'boom', delayMs: 60_000 },
      ];
      expect(await q.repo.settle(batch)).toEqual(['applied', 'applied', 'applied', 'applied']);
      const after = await q.dump();

      // The starts find their tasks no longer running: only the outcomes are recognised.
      expect(await q.repo.settle(batch)).toEqual(['lease-lost', 'applied', 'lease-lost', 'applied']);
      expect(await q.dump()).toEqual(after);
    });

    it.each([
      { what: 'complete with another result', earlier: { mode: 'complete', text: 'first' }, write: { mode: 'complete', text: 'second' } },
      { what: 'fail with another error', earlier: { mode: 'fail', text: 'first' }, write: { mode: 'fail', text: 'second' } },
      { what: 'retry with another error', earlier: { mode: 'retry', text: 'first', delayMs: 60_000 }, write: { mode: 'retry', text: 'second' } },
      { what: 'fail after a completion', earlier: { mode: 'complete', text: 'x' }, write: { mode: 'fail', text: 'x' } },
      { what: 'retry after a requeue', earlier: { mode: 'requeue', text: '' }, write: { mode: 'retry', text: '' } },
      { what: 'requeue after a retry', earlier: { mode: 'retry', text: 'e', delayMs: 60_000 }, write: { mode: 'requeue', text: '' } },
    ] as Array<{ what: string; earlier: Omit<Settlement, 'lease'>; write: Omit<Settlement, 'lease'> }>)(
      'a different write of the same attempt is still rejected: $what',
      async ({ earlier, write }) => {
        const q = harness.queue();
        const [t] = await q.leased(1);
        await q.repo.settle([{ lease: t, ...earlier }]);
        const after = await q.dump();

        expect(await q.repo.settle([{ lease: t, ...write }])).toEqual(['lease-lost']);
        expect(await q.dump()).toEqual(after);
      },
    );

    it("is not fooled by the recoverer's retry of the same attempt", async () => {
      const q = harness.queue();
      const [t] = await q.leased(1);
      await q.repo.start(t);
      await q.expire(t.id);
      await q.repo.recoverExpired(10, RECOVERER_ERROR, DELAYS, MAX_STALLS);
      const after = await q.dump();

      expect(
        await q.repo.settle([
          { lease: t, mode: 'retry', text: 'handler error', delayMs: 1000 },
          { lease: t, mode: 'requeue', text: '' },
          { lease: t, mode: 'fail', text: RECOVERER_ERROR },
          { lease: t, mode: 'complete', text: 'ok' },
        ]),
      ).toEqual(['lease-lost', 'lease-lost', 'lease-lost', 'lease-lost']);
      expect(await q.dump()).toEqual(after);
    });
  });

  describe('settle (batched outcomes)', () => {
    it('applies every outcome of a batch in one call, each fenced on its own, and reports each in order', async () => {
      const q = harness.queue();
      const [a, b, c, d, e] = await q.leased(5, { id: 'batch' });
      await q.repo.delete(e.id);
      await q.clearMarker();

      const results = await q.repo.settle([
        { lease: a, mode: 'complete', text: 'done a' },
        { lease: b, mode: 'retry', text: 'boom b', delayMs: 1900 },
        { lease: c, mode: 'fail', text: 'fatal c' },
        { lease: { id: d.id, token: d.token + 7 }, mode: 'complete', text: 'stale d' },
        { lease: e, mode: 'complete', text: 'deleted e' },
      ]);

      expect(results).toEqual(['applied', 'applied', 'applied', 'lease-lost', 'not-found']);
      expect(await q.hash(a.id)).toMatchObject({ status: 'completed', result: 'done a' });
      const hb = await q.hash(b.id);
      expect(hb).toMatchObject({ status: 'pending', retries: '1', error: 'boom b' });
      expect(Number(hb.run_at) - Number(hb.updated_at)).toBe(1900);
      expect(await q.hash(c.id)).toMatchObject({ status: 'failed', error: 'fatal c' });
      expect(await q.hash(d.id)).toMatchObject({ status: 'processing' });
      // One Redis now for the whole call.
      expect((await q.hash(a.id)).updated_at).toBe(hb.updated_at);
      expect(await q.footprint(e.id)).toEqual([]);
      expect(await q.footprint(a.id)).toEqual(q.expectedFootprint(a.id, 'completed'));
      expect(await q.footprint(b.id)).toEqual(q.expectedFootprint(b.id, 'pending', { waiting: true }));
      expect(await q.footprint(c.id)).toEqual(q.expectedFootprint(c.id, 'failed'));
      expect(await q.footprint(d.id)).toEqual(q.expectedFootprint(d.id, 'processing'));
      // One retry in the batch: the wake-up marker is set (once) so idle workers re-plan their wait.
      expect(await q.markerSet()).toBe(true);
    });

    it('keeps ids, results, errors and worker ids with tabs, newlines and multi-byte characters whole, in a batch of every mode', async () => {
      const q = harness.queue();
      const ids = ['tab\tid', 'é✓ id', 'new\nline', '', 'plain'];
      await q.repo.enqueue(ids.slice(0, 3).concat(ids[4]).map((id) => newTask({ id })));
      const leases = (await q.repo.fetch(10, LEASE_MS)).tasks;
      const lease = (id: string) => leases.find((l) => l.id === id) as LeasedTask;

      const results = await q.repo.settle([
        { lease: lease('tab\tid'), mode: 'run', text: '"a\tb\nc ✓ 𝄞"', workerId: 'host\t1/3' },
        { lease: lease('é✓ id'), mode: 'start', text: '', workerId: 'hôst/1' },
        { lease: lease('é✓ id'), mode: 'fail', text: 'ünïcode\terror\n' },
        { lease: { id: '', token: 1 }, mode: 'complete', text: '\t' },
        { lease: lease('new\nline'), mode: 'retry', text: '', delayMs: 50 },
        { lease: lease('plain'), mode: 'complete', text: '' },
      ]);

      expect(results).toEqual(['applied', 'applied', 'applied', 'not-found', 'applied', 'applied']);
      expect(await q.hash('tab\tid')).toMatchObject({ status: 'completed', result: '"a\tb\nc ✓ 𝄞"', worker: 'host_1/3' });
      expect(await q.hash('é✓ id')).toMatchObject({ status: 'failed', error: 'ünïcode\terror\n', worker: 'hôst/1' });
      expect(await q.hash('new\nline')).toMatchObject({ status: 'pending', retries: '1', error: '' });
      expect(await q.hash('plain')).toMatchObject({ status: 'completed', result: '' });
    });

    it('a batch of two queues, interleaved: one call per queue, every answer in the order asked', async () => {
      const q = harness.queue();
      const [a, b] = await q.leased(2, { id: 'mixed' });
      const ids = [newTaskId('other'), newTaskId('other')];
      await q.repo.submit(ids.map((id) => ({ id, queue: 'other', type: 'job', payload: '', maxRetry: 1 })));
      const [x, y] = (await q.repo.fetch(2, LEASE_MS, 0, 'other')).tasks;

      const results = await q.repo.settle([
        { lease: x, mode: 'complete', text: 'x' },
        { lease: a, mode: 'complete', text: 'a' },
        { lease: { id: y.id, token: y.token + 1 }, mode: 'complete', text: 'stale y' },
        { lease: { id: b.id, token: b.token + 1 }, mode: 'fail', text: 'stale b' },
        { lease: y, mode: 'fail', text: 'y' },
      ]);

      expect(results).toEqual(['applied', 'applied', 'lease-lost', 'lease-lost', 'applied']);
      const other = async (id: string) => expandTaskHash(await q.redis.hgetall(q.repo.keysOf('other').task(id)));
      expect(await other(x.id)).toMatchObject({ status: 'completed', result: 'x' });
      expect(await q.hash(a.id)).toMatchObject({ status: 'completed', result: 'a' });
      expect(await q.hash(b.id)).toMatchObject({ status: 'processing' });
      expect(await other(y.id)).toMatchObject({ status: 'failed', error: 'y' });
      expect(await q.repo.settle([])).toEqual([]);
    });

    it('a batch of starts and completions only does not wake idle workers', async () => {
      const q = harness.queue();
      const tasks = await q.leased(3, { id: 'quiet' });
      await q.clearMarker();
      const results = await q.repo.settle([
        ...tasks.map((t) => ({ lease: t, mode: 'start' as const, text: '' })),
        ...tasks.map((t) => ({ lease: t, mode: 'complete' as const, text: 'ok' })),
      ]);
      expect(results).toEqual(Array(6).fill('applied'));
      expect(await q.markerSet()).toBe(false);
    });
  });
});
