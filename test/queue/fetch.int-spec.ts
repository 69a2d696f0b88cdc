import { LEASE_MS, newTask, QueueHarness } from '../support/queue-harness';

/** What fetch adds to every lease for the metrics (how long due, how old, when received). */
const METRIC_TIMES = { dueForMs: expect.any(Number), ageMs: expect.any(Number), leasedAt: expect.any(Number) };

/** fetch.lua against a real Redis. */
describe('fetch.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('leases up to N tasks in FIFO order of score, whatever their ids', async () => {
    const q = harness.queue();
    // Ids sort opposite to their scores, so ordering by id would give the wrong answer.
    const ids = ['e', 'd', 'c', 'b', 'a'];
    for (const [i, id] of ids.entries()) {
      await q.repo.enqueue([newTask({ id, type: i % 2 ? 'odd' : 'even', payload: `p-${id}`, maxRetry: i })]);
      // Distinct creation times, long past (enqueues in one millisecond would tie and sort by id).
      await q.redis.zadd(q.keys.queue, 'XX', 1000 + i, id);
    }
    await q.clearMarker();

    const first = await q.repo.fetch(3, LEASE_MS);

    expect(first.tasks).toEqual([
      { id: 'e', token: 1, type: 'even', payload: 'p-e', retries: 0, maxRetry: 0, ...METRIC_TIMES },
      { id: 'd', token: 1, type: 'odd', payload: 'p-d', retries: 0, maxRetry: 1, ...METRIC_TIMES },
      { id: 'c', token: 1, type: 'even', payload: 'p-c', retries: 0, maxRetry: 2, ...METRIC_TIMES },
    ]);
    // Due since its score (long past), not since its creation (just now): the wait the metrics show.
    expect(first.tasks[0].dueForMs).toBeGreaterThan(first.tasks[0].ageMs as number);
    // The earliest task left is due already.
    expect(first.nextRunInMs).toBe(0);
    // Two more are ready: the marker is set again so another idle worker wakes up.
    expect(await q.markerSet()).toBe(true);

    await q.clearMarker();
    const second = await q.repo.fetch(10, LEASE_MS);
    expect(second.tasks.map((t) => t.id)).toEqual(['b', 'a']);
    expect(second.nextRunInMs).toBeUndefined();
    expect(await q.markerSet()).toBe(false);
    expect(await q.redis.exists(q.keys.queue)).toBe(0);
  });

  it('hands back ids, types and payloads holding tabs, newlines and non-ASCII text as they are, several types in one call, and the tasks own options', async () => {
    const q = harness.queue();
    const odd = [
      newTask({ id: 'x1', type: 'tab\there', payload: '{"a":\t"b\\t"}\n' }),
      newTask({ id: 'x2', type: 'ünïcödé ✓', payload: 'é\t✓\n\r\u0000end' }),
      newTask({ id: 'x3', type: 'tab\there', payload: '', maxRetry: 7, timeoutMs: 1234 }),
      newTask({ id: 'x4', type: '3', payload: '2\t1' }),
      newTask({ id: 'x5\t-1\t', type: 'ünïcödé ✓', payload: '\t' }),
      newTask({ id: 'x6', type: 'echo', payload: '"p"' }),
      newTask({ id: '\tx7', type: 'tab\there', payload: 'x' }),
    ];
    for (const [i, t] of odd.entries()) {
      await q.repo.enqueue([t]);
      await q.redis.zadd(q.keys.queue, 'XX', 1000 + i, t.id);
    }

    const { tasks } = await q.repo.fetch(10, LEASE_MS);

    expect(tasks).toEqual([
      { id: 'x1', token: 1, type: 'tab\there', payload: '{"a":\t"b\\t"}\n', retries: 0, maxRetry: 3, ...METRIC_TIMES },
      { id: 'x2', token: 1, type: 'ünïcödé ✓', payload: 'é\t✓\n\r\u0000end', retries: 0, maxRetry: 3, ...METRIC_TIMES },
      { id: 'x3', token: 1, type: 'tab\there', payload: '', retries: 0, maxRetry: 7, timeoutMs: 1234, ...METRIC_TIMES },
      { id: 'x4', token: 1, type: '3', payload: '2\t1', retries: 0, maxRetry: 3, ...METRIC_TIMES },
      { id: 'x5\t-1\t', token: 1, type: 'ünïcödé ✓', payload: '\t', retries: 0, maxRetry: 3, ...METRIC_TIMES },
      { id: 'x6', token: 1, type: 'echo', payload: '"p"', retries: 0, maxRetry: 3, ...METRIC_TIMES },
      { id: '\tx7', token: 1, type: 'tab\there', payload: 'x', retries: 0, maxRetry: 3, ...METRIC_TIMES },
    ]);
  });

  it('enqueue and fetch write the sorted sets of many tasks at once (more than one chunk of 1000 arguments): every task in the right ones', async () => {
    const q = harness.queue();
    // Written as an older version wrote them (STORE_TASK_DEFAULTS=true does): each task also
    // has an s:pending entry, which fetch removes.
    const older = harness.queue({ STORE_TASK_DEFAULTS: 'true', QUEUE_PREFIX: q.prefix });
    const tasks = Array.from({ length: 1200 }, (_, i) => newTask({ id: `t${String(i).padStart(4, '0')}`, type: i % 3 ? 'a' : 'b' }));
    const createdAt = await older.repo.enqueue(tasks);
    expect(await q.redis.zcard(q.keys.queue)).toBe(1200);
    expect(await q.redis.zcard(q.keys.byStatus('pending'))).toBe(1200);
    expect(await q.score(q.keys.byStatus('pending'), 't1197')).toBe(createdAt);
    // No index per type (lua/lib/common.lua index_add).
    expect(await q.redis.exists(q.keys.byStatusAndType('pending', 'a'), q.keys.byStatusAndType('pending', 'b'))).toBe(0);
    // What a version before 2026-12-01 wrote besides: st:pending:<type>, which fetch empties.
    await q.redis.zadd(q.keys.byStatusAndType('pending', 'a'), ...tasks.filter((t) => t.type === 'a').flatMap((t) => [createdAt, t.id]));
    await q.redis.zadd(q.keys.byStatusAndType('pending', 'b'), ...tasks.filter((t) => t.type === 'b').flatMap((t) => [createdAt, t.id]));

    const { tasks: leased } = await q.repo.fetch(700, LEASE_MS);

    expect(leased).toHaveLength(700);
    const left = tasks.filter((t) => !leased.some((l) => l.id === t.id));
    expect(await q.redis.zcard(q.keys.active)).toBe(700);
    expect(await q.redis.zcard(q.keys.queue)).toBe(500);
    expect(await q.redis.zcard(q.keys.byStatus('pending'))).toBe(500);
    expect(await q.redis.zcard(q.keys.byStatusAndType('pending', 'a'))).toBe(left.filter((t) => t.type === 'a').length);
    expect(await q.redis.zcard(q.keys.byStatusAndType('pending', 'b'))).toBe(left.filter((t) => t.type === 'b').length);
    for (const l of [leased[0], leased[1], leased[699]]) expect(await q.footprint(l.id)).toEqual(q.expectedFootprint(l.id, 'processing'));
    expect(await q.footprint(left[0].id)).toEqual([...q.expectedFootprint(left[0].id, 'pending', { waiting: true }), `st:pending:${left[0].type}`].sort());

    // The rest leased: the legacy indexes are gone.
    expect((await q.repo.fetch(1000, LEASE_MS)).tasks).toHaveLength(500);
    expect(await q.redis.exists(q.keys.byStatusAndType('pending', 'a'), q.keys.byStatusAndType('pending', 'b'))).toBe(0);
    expect(await q.redis.exists(q.keys.byStatus('pending'))).toBe(0);
  });

  it('marks a leased task processing (not started), counts the attempt, leases until Redis now + leaseMs', async () => {
    const q = harness.queue();
    const createdAt = await q.repo.enqueue([newTask({ id: 'a', type: 'email', payload: 'x', maxRetry: 2 })]);
    const before = await q.redisNow();

    const { tasks } = await q.repo.fetch(1, LEASE_MS);

    const after = await q.redisNow();
    expect(tasks).toEqual([{ id: 'a', token: 1, type: 'email', payload: 'x', retries: 0, maxRetry: 2, ...METRIC_TIMES }]);
    // For the metrics, by Redis' clock: due since its creation, and as old as that when leased.
    expect(tasks[0].dueForMs).toBe(tasks[0].ageMs);
    expect(tasks[0].ageMs).toBeGreaterThanOrEqual(before - createdAt);
    expect(tasks[0].ageMs).toBeLessThanOrEqual(after - createdAt);
    const h = await q.hash('a');
    // No started_at: leasing is not starting (settle 'start' records that).
    expect(h).toEqual({
      type: 'email',
      payload: 'x',
      status: 'processing',
      // No retries: a new task has none until one is spent; the lease wrote attempts and updated_at.
      max_retry: '2',
      attempts: '1',
      created_at: String(createdAt),
      updated_at: expect.any(String),
    });
    const leasedAt = Number(h.updated_at);
    expect(leasedAt).toBeGreaterThanOrEqual(before);
    expect(leasedAt).toBeLessThanOrEqual(after);
    expect(await q.score(q.keys.active, 'a')).toBe(leasedAt + LEASE_MS);
    // Leaving pending leaves its listing index; a processing task has none (`active` lists it).
    expect(await q.score(q.keys.byStatus('pending'), 'a')).toBeNull();
    expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'processing'));
  });

  it('gives every new attempt a higher token', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a' })]);
    const tokens: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const [task] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      tokens.push(task.token);
      await q.repo.requeue(task);
    }
    expect(tokens).toEqual([1, 2, 3]);
    expect(await q.hash('a')).toMatchObject({ attempts: '3' });
    expect((await q.hash('a')).retries).toBeUndefined();
  });

  it.each([
    { what: 'nothing is due yet', offsets: [5000, 9000], leased: [] as string[], next: 5000 },
    { what: 'only the due one', offsets: [-1000, 9000], leased: ['t0'], next: 9000 },
    { what: 'a task due exactly now', offsets: [0], leased: ['t0'], next: undefined },
  ])('leaves tasks with a future score queued: $what', async ({ offsets, leased, next }) => {
    const q = harness.queue();
    const base = await q.redisNow();
    for (const [i, offset] of offsets.entries()) {
      await q.repo.enqueue([newTask({ id: `t${i}` })]);
      await q.redis.zadd(q.keys.queue, 'XX', base + offset, `t${i}`);
    }
    await q.clearMarker();

    const got = await q.repo.fetch(10, LEASE_MS);
    const elapsed = (await q.redisNow()) - base;

    expect(got.tasks.map((t) => t.id)).toEqual(leased);
    // Counted from the fetch's own now, which is between `base` and now: within [next - elapsed, next].
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    expect(got.nextRunInMs).toBe(next === undefined ? undefined : clamp(got.nextRunInMs ?? NaN, next - elapsed, next));
    for (const [i, offset] of offsets.entries()) {
      const id = `t${i}`;
      if (leased.includes(id)) continue;
      expect(await q.hash(id)).toMatchObject({ status: 'pending' });
      expect((await q.hash(id)).attempts).toBeUndefined(); // never leased
      expect(await q.score(q.keys.queue, id)).toBe(base + offset);
    }
    // What remains is not ready: no other worker needs waking.
    expect(await q.markerSet()).toBe(false);
  });

  it('reports an empty queue with no tasks and no nextRunInMs', async () => {
    const q = harness.queue();
    expect(await q.repo.fetch(5, LEASE_MS)).toEqual({ tasks: [] });
    expect(await q.allKeys()).toEqual([]);
  });

  it('stops leasing once the payloads leased reach the byte budget, leaving the rest due', async () => {
    const q = harness.queue();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const [i, id] of ids.entries()) {
      await q.repo.enqueue([newTask({ id, payload: 'x'.repeat(100) })]);
      await q.redis.zadd(q.keys.queue, 'XX', 1000 + i, id);
    }
    await q.clearMarker();

    // 0, 100, 200 bytes leased before a, b, c: all below 250; after c, 300 bytes reach it.
    const got = await q.repo.fetch(10, LEASE_MS, 250);

    expect(got.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(got.nextRunInMs).toBe(0);
    expect(await q.markerSet()).toBe(true);
    for (const id of ['d', 'e']) {
      expect(await q.hash(id)).toMatchObject({ status: 'pending' });
      expect((await q.hash(id)).attempts).toBeUndefined(); // never leased
      expect(await q.footprint(id)).toEqual(q.expectedFootprint(id, 'pending'));
    }
    // A budget smaller than one payload still leases one task; no budget (0) leases all that are due.
    expect((await q.repo.fetch(10, LEASE_MS, 1)).tasks.map((t) => t.id)).toEqual(['d']);
    expect((await q.repo.fetch(10, LEASE_MS, 0)).tasks.map((t) => t.id)).toEqual(['e']);
  });

  it('drops stale queue entries instead of leasing them', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'gone' }), newTask({ id: 'done' }), newTask({ id: 'live', type: 'sms' })]);
    // 'done' runs to completion, then a stray queue entry for it appears; 'gone' loses its hash.
    const [leasedDone] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(leasedDone.id).toBe('done');
    await q.repo.complete(leasedDone, 'ok');
    await q.redis.zadd(q.keys.queue, 1000, 'done');
    await q.redis.del(q.keys.task('gone'));
    const doneBefore = await q.hash('done');

    const got = await q.repo.fetch(10, LEASE_MS);

    expect(got.tasks.map((t) => t.id)).toEqual(['live']);
    expect(got.nextRunInMs).toBeUndefined();
    expect(await q.redis.exists(q.keys.queue)).toBe(0);
    expect(await q.hash('done')).toEqual(doneBefore);
    expect(await q.score(q.keys.active, 'done')).toBeNull();
    expect(await q.redis.exists(q.keys.task('gone'))).toBe(0);
    expect(await q.score(q.keys.active, 'gone')).toBeNull();
  });

  it('still reports ready work when stale entries used up the fetch limit', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'b-live' })]);
    await q.redis.zadd(q.keys.queue, 'XX', 1000, 'b-live');
    await q.redis.zadd(q.keys.queue, 1000, 'a-ghost');
    await q.clearMarker();

    const got = await q.repo.fetch(1, LEASE_MS);

    expect(got).toEqual({ tasks: [], nextRunInMs: 0 });
    expect(await q.markerSet()).toBe(true);
    expect((await q.repo.fetch(1, LEASE_MS)).tasks.map((t) => t.id)).toEqual(['b-live']);
  });

  it('drops a queue entry of a task that is already processing without touching its lease', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a' })]);
    const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.redis.zadd(q.keys.queue, 1000, 'a');
    const before = await q.hash('a');
    const deadline = await q.score(q.keys.active, 'a');

    expect((await q.repo.fetch(10, LEASE_MS)).tasks).toEqual([]);

    expect(await q.hash('a')).toEqual(before);
    expect(await q.score(q.keys.active, 'a')).toBe(deadline);
    await expect(q.repo.complete(lease, 'ok')).resolves.toBeUndefined();
  });
});
