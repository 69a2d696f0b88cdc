import { LEASE_MS, newTask, QueueHarness, T0 } from '../support/queue-harness';

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
      await q.repo.enqueue([newTask({ id, type: i % 2 ? 'odd' : 'even', payload: `p-${id}`, maxRetry: i })], T0 + i);
    }
    await q.clearMarker();
    const now = T0 + 100;

    const first = await q.repo.fetch(3, now, now + LEASE_MS);

    expect(first.tasks).toEqual([
      { id: 'e', token: 1, type: 'even', payload: 'p-e', retries: 0, maxRetry: 0 },
      { id: 'd', token: 1, type: 'odd', payload: 'p-d', retries: 0, maxRetry: 1 },
      { id: 'c', token: 1, type: 'even', payload: 'p-c', retries: 0, maxRetry: 2 },
    ]);
    expect(first.nextRunAt).toBe(T0 + 3);
    // Two more are ready: the marker is set again so another idle worker wakes up.
    expect(await q.markerSet()).toBe(true);

    await q.clearMarker();
    const second = await q.repo.fetch(10, now, now + LEASE_MS);
    expect(second.tasks.map((t) => t.id)).toEqual(['b', 'a']);
    expect(second.nextRunAt).toBeUndefined();
    expect(await q.markerSet()).toBe(false);
    expect(await q.redis.exists(q.keys.queue)).toBe(0);
  });

  it('marks a leased task processing, counts the attempt and moves it from pending to processing indexes', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a', type: 'email', payload: 'x', maxRetry: 2 })], T0);
    const now = T0 + 250;

    const { tasks } = await q.repo.fetch(1, now, now + LEASE_MS);

    expect(tasks).toEqual([{ id: 'a', token: 1, type: 'email', payload: 'x', retries: 0, maxRetry: 2 }]);
    expect(await q.hash('a')).toEqual({
      type: 'email',
      payload: 'x',
      status: 'processing',
      retries: '0',
      max_retry: '2',
      attempts: '1',
      created_at: String(T0),
      updated_at: String(now),
      started_at: String(now),
    });
    expect(await q.score(q.keys.active, 'a')).toBe(now + LEASE_MS);
    // Listing indexes keep the creation time as score.
    expect(await q.score(q.keys.byStatus('processing'), 'a')).toBe(T0);
    expect(await q.score(q.keys.byStatusAndType('processing', 'email'), 'a')).toBe(T0);
    expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'email', 'processing'));
  });

  it('gives every new attempt a higher token', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a' })], T0);
    const tokens: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const now = T0 + attempt * 10;
      const [task] = (await q.repo.fetch(1, now, now + LEASE_MS)).tasks;
      tokens.push(task.token);
      await q.repo.requeue(task, now + 1);
    }
    expect(tokens).toEqual([1, 2, 3]);
    expect(await q.hash('a')).toMatchObject({ attempts: '3', retries: '0' });
  });

  it.each([
    { what: 'nothing is due yet', scores: [T0 + 5000, T0 + 9000], now: T0 + 1000, leased: [], next: T0 + 5000 },
    { what: 'only the due one', scores: [T0, T0 + 9000], now: T0 + 1000, leased: ['t0'], next: T0 + 9000 },
    { what: 'a task due exactly now', scores: [T0 + 1000], now: T0 + 1000, leased: ['t0'], next: undefined },
  ])('leaves tasks with a future score queued: $what', async ({ scores, now, leased, next }) => {
    const q = harness.queue();
    for (const [i, score] of scores.entries()) await q.repo.enqueue([newTask({ id: `t${i}` })], score);
    await q.clearMarker();

    const got = await q.repo.fetch(10, now, now + LEASE_MS);

    expect(got.tasks.map((t) => t.id)).toEqual(leased);
    expect(got.nextRunAt).toBe(next);
    for (const [i, score] of scores.entries()) {
      const id = `t${i}`;
      if (leased.includes(id)) continue;
      expect(await q.hash(id)).toMatchObject({ status: 'pending', attempts: '0' });
      expect(await q.score(q.keys.queue, id)).toBe(score);
    }
    // What remains is not ready: no other worker needs waking.
    expect(await q.markerSet()).toBe(false);
  });

  it('reports an empty queue with no tasks and no nextRunAt', async () => {
    const q = harness.queue();
    expect(await q.repo.fetch(5, T0, T0 + LEASE_MS)).toEqual({ tasks: [] });
    expect(await q.allKeys()).toEqual([]);
  });

  it('drops stale queue entries instead of leasing them', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'gone' }), newTask({ id: 'done' }), newTask({ id: 'live', type: 'sms' })], T0);
    // 'done' runs to completion, then a stray queue entry for it appears; 'gone' loses its hash.
    const [leasedDone] = (await q.repo.fetch(1, T0, T0 + LEASE_MS)).tasks;
    expect(leasedDone.id).toBe('done');
    await q.repo.complete(leasedDone, 'ok', T0 + 1);
    await q.redis.zadd(q.keys.queue, T0, 'done');
    await q.redis.del(q.keys.task('gone'));
    const doneBefore = await q.hash('done');

    const got = await q.repo.fetch(10, T0 + 10, T0 + 10 + LEASE_MS);

    expect(got.tasks.map((t) => t.id)).toEqual(['live']);
    expect(got.nextRunAt).toBeUndefined();
    expect(await q.redis.exists(q.keys.queue)).toBe(0);
    expect(await q.hash('done')).toEqual(doneBefore);
    expect(await q.score(q.keys.active, 'done')).toBeNull();
    expect(await q.redis.exists(q.keys.task('gone'))).toBe(0);
    expect(await q.score(q.keys.active, 'gone')).toBeNull();
  });

  it('still reports ready work when stale entries used up the fetch limit', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'b-live' })], T0);
    await q.redis.zadd(q.keys.queue, T0, 'a-ghost');
    await q.clearMarker();

    const got = await q.repo.fetch(1, T0 + 1, T0 + 1 + LEASE_MS);

    expect(got).toEqual({ tasks: [], nextRunAt: T0 });
    expect(await q.markerSet()).toBe(true);
    expect((await q.repo.fetch(1, T0 + 2, T0 + 2 + LEASE_MS)).tasks.map((t) => t.id)).toEqual(['b-live']);
  });

  it('drops a queue entry of a task that is already processing without touching its lease', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a' })], T0);
    const [lease] = (await q.repo.fetch(1, T0, T0 + LEASE_MS)).tasks;
    await q.redis.zadd(q.keys.queue, T0, 'a');
    const before = await q.hash('a');

    expect((await q.repo.fetch(10, T0 + 5, T0 + 5 + LEASE_MS)).tasks).toEqual([]);

    expect(await q.hash('a')).toEqual(before);
    expect(await q.score(q.keys.active, 'a')).toBe(T0 + LEASE_MS);
    await expect(q.repo.complete(lease, 'ok', T0 + 6)).resolves.toBeUndefined();
  });
});
