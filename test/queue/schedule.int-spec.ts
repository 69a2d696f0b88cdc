import { LEASE_MS, newTask, QueueHarness } from '../support/queue-harness';

/** Scheduled tasks (delay_ms, run_at) in enqueue.lua and fetch.lua. */
describe('scheduled tasks', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('delayMs: pending with run_at = created_at + delay, queued at that score, listed, not leased before it is due', async () => {
    const q = harness.queue();
    const createdAt = await q.repo.enqueue([newTask({ id: 'a', type: 'job', delayMs: 60_000 })]);

    const h = await q.hash('a');
    // opts present (empty parts) tells fetch to drop run_at.
    expect(h).toMatchObject({ status: 'pending', created_at: String(createdAt), run_at: String(createdAt + 60_000), opts: '|' });
    expect(await q.score(q.keys.queue, 'a')).toBe(createdAt + 60_000);
    expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'pending', { waiting: true }));
    expect((await q.repo.list({ status: 'pending' }, 10)).tasks.map((t) => t.id)).toEqual(['a']);
    // An idle worker is woken to recompute how long it may block.
    expect(await q.markerSet()).toBe(true);

    const { tasks, nextRunInMs } = await q.repo.fetch(10, LEASE_MS);
    expect(tasks).toEqual([]);
    // Bounded by Redis' clock read after the fetch, not by how long the steps above took (a busy CI
    // machine once took more than a second between the enqueue and the fetch).
    const nowAfter = await q.redisNow();
    expect(nextRunInMs).toBeGreaterThanOrEqual(createdAt + 60_000 - nowAfter);
    expect(nextRunInMs).toBeLessThanOrEqual(60_000);
    expect((await q.hash('a')).status).toBe('pending');
  });

  it('once due it is leased like any task and loses its run_at', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a', type: 'job', delayMs: 60_000 })]);
    await q.makeDue('a');

    const { tasks } = await q.repo.fetch(10, LEASE_MS);

    expect(tasks.map((t) => t.id)).toEqual(['a']);
    const h = await q.hash('a');
    expect(h.status).toBe('processing');
    expect(h.run_at).toBeUndefined();
  });

  it('a task due in a few ms is leased only from its run_at on, by Redis time', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a', type: 'job', delayMs: 150 })]);
    const runAt = Number((await q.hash('a')).run_at);

    let polls = 0;
    for (;;) {
      const { tasks, nextRunInMs } = await q.repo.fetch(1, LEASE_MS);
      if (tasks.length > 0) break;
      polls += 1;
      await new Promise((r) => setTimeout(r, Math.min(nextRunInMs ?? 5, 5)));
    }
    // fetch.lua stamps updated_at with the time by which it judged the task due.
    expect(Number((await q.hash('a')).updated_at)).toBeGreaterThanOrEqual(runAt);
    expect(polls).toBeGreaterThan(0);
  });

  it('runAt in the future: queued at that time; not after now: due at once, without run_at', async () => {
    const q = harness.queue();
    const now = await q.redisNow();
    await q.repo.enqueue([
      newTask({ id: 'future', type: 'job', runAt: now + 3_600_000 }),
      newTask({ id: 'past', type: 'job', runAt: now - 3_600_000 }),
      newTask({ id: 'zero-delay', type: 'job', delayMs: 0 }),
    ]);

    expect(await q.score(q.keys.queue, 'future')).toBe(now + 3_600_000);
    expect((await q.hash('future')).run_at).toBe(String(now + 3_600_000));
    for (const id of ['past', 'zero-delay']) {
      const h = await q.hash(id);
      expect(h.run_at).toBeUndefined();
      expect(h.opts).toBeUndefined();
      expect(await q.score(q.keys.queue, id)).toBe(Number(h.created_at));
    }
    expect((await q.repo.fetch(10, LEASE_MS)).tasks.map((t) => t.id).sort()).toEqual(['past', 'zero-delay']);
  });

  it('delayMs wins over runAt when both are given', async () => {
    const q = harness.queue();
    const now = await q.redisNow();
    const createdAt = await q.repo.enqueue([newTask({ id: 'a', type: 'job', delayMs: 1000, runAt: now + 3_600_000 })]);

    expect(await q.score(q.keys.queue, 'a')).toBe(createdAt + 1000);
  });

  it('DELETE removes a scheduled task, and it never runs', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a', type: 'job', delayMs: 60_000 })]);

    await q.repo.delete('a');

    expect(await q.footprint('a')).toEqual([]);
    expect(await q.repo.fetch(10, LEASE_MS)).toEqual({ tasks: [], nextRunInMs: undefined });
  });

  it('a scheduled task in a batch with plain ones: each gets its own score, one creation time', async () => {
    const q = harness.queue();
    const createdAt = await q.repo.enqueue([
      newTask({ id: 'plain', type: 'job' }),
      newTask({ id: 'later', type: 'job', delayMs: 5000, priority: 'high' }),
    ]);

    expect(await q.score(q.keys.queue, 'plain')).toBe(createdAt);
    expect(await q.score(q.keys.queueFor('high'), 'later')).toBe(createdAt + 5000);
    expect((await q.hash('later')).created_at).toBe(String(createdAt));
  });
});
