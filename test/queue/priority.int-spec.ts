import { MAX_STALLS } from '../../src/queue/task-limits';
import { TaskPriority } from '../../src/queue/task-options';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

/** Priority levels in fetch.lua, enqueue.lua, settle.lua, recover.lua, delete.lua and purge-expired.lua. */
describe('priority levels', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /** Enqueues one task per (id, priority), then gives them distinct due times in that order, long past. */
  async function seed(q: QueueFixture, tasks: Array<[string, TaskPriority]>): Promise<void> {
    for (const [id, priority] of tasks) await q.repo.enqueue([newTask({ id, type: 'job', priority })]);
    for (const [i, [id, priority]] of tasks.entries()) await q.redis.zadd(q.keys.queueFor(priority), 'XX', 1000 + i, id);
    await q.clearMarker();
  }

  /** Leases one task at a time until none is due; the order they came in. */
  async function drainOneByOne(q: QueueFixture): Promise<string[]> {
    const order: string[] = [];
    for (;;) {
      const { tasks } = await q.repo.fetch(1, LEASE_MS);
      if (tasks.length === 0) return order;
      order.push(...tasks.map((t) => t.id));
    }
  }

  it('stores priority only when it is not normal, and each task waits in its own level', async () => {
    const q = harness.queue();
    await q.repo.enqueue([
      newTask({ id: 'h', type: 'job', priority: 'high' }),
      newTask({ id: 'n', type: 'job', priority: 'normal' }),
      newTask({ id: 'd', type: 'job' }),
      newTask({ id: 'l', type: 'job', priority: 'low' }),
    ]);

    expect((await q.hash('h')).priority).toBe('high');
    expect((await q.hash('l')).priority).toBe('low');
    expect((await q.hash('n')).priority).toBeUndefined();
    expect((await q.hash('d')).priority).toBeUndefined();
    expect(await q.footprint('h')).toEqual(['p:high', 'queue:high', 't:h']);
    expect(await q.footprint('l')).toEqual(['p:low', 'queue:low', 't:l']);
    expect(await q.footprint('n')).toEqual(q.expectedFootprint('n', 'pending'));
    expect(await q.repo.get('h')).toMatchObject({ priority: 'high' });
    expect((await q.repo.get('n'))?.priority).toBeUndefined();
  });

  it('leases every due high task before any normal one and every normal before any low one, FIFO by due time within a level', async () => {
    const q = harness.queue();
    // Interleaved in due time: the level decides first, the due time only within a level.
    await seed(q, [
      ['low-1', 'low'],
      ['normal-1', 'normal'],
      ['high-1', 'high'],
      ['low-2', 'low'],
      ['normal-2', 'normal'],
      ['high-2', 'high'],
    ]);

    expect(await drainOneByOne(q)).toEqual(['high-1', 'high-2', 'normal-1', 'normal-2', 'low-1', 'low-2']);
  });

  it('fills one fetch across levels in order, up to its limit', async () => {
    const q = harness.queue();
    await seed(q, [
      ['low-1', 'low'],
      ['normal-1', 'normal'],
      ['high-1', 'high'],
      ['normal-2', 'normal'],
    ]);

    const first = await q.repo.fetch(3, LEASE_MS);
    expect(first.tasks.map((t) => t.id)).toEqual(['high-1', 'normal-1', 'normal-2']);
    // The low task is due: another idle worker is woken for it.
    expect(first.nextRunInMs).toBe(0);
    expect(await q.markerSet()).toBe(true);
    const second = await q.repo.fetch(3, LEASE_MS);
    expect(second.tasks.map((t) => t.id)).toEqual(['low-1']);
    expect(second.nextRunInMs).toBeUndefined();
  });

  it('a high task that is not due yet does not hold back due lower ones; the next run time covers every level', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'later-high', type: 'job', priority: 'high', delayMs: 60_000 })]);
    const lowCreatedAt = await q.repo.enqueue([newTask({ id: 'later-low', type: 'job', priority: 'low', delayMs: 30_000 })]);
    await q.repo.enqueue([newTask({ id: 'now-low', type: 'job', priority: 'low' })]);

    const { tasks, nextRunInMs } = await q.repo.fetch(10, LEASE_MS);
    const nowAfter = await q.redisNow();

    expect(tasks.map((t) => t.id)).toEqual(['now-low']);
    // The earliest waiting task is the low one, 30 s ahead (minus the ms the calls took, by Redis' clock).
    expect(nextRunInMs).toBeGreaterThanOrEqual(lowCreatedAt + 30_000 - nowAfter);
    expect(nextRunInMs).toBeLessThanOrEqual(30_000);
  });

  it('a failed attempt waits for its retry in its own level, and comes back ahead of the lower levels', async () => {
    const q = harness.queue();
    await seed(q, [
      ['normal-1', 'normal'],
      ['high-1', 'high'],
    ]);
    const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(lease.id).toBe('high-1');
    await q.repo.start(lease);
    await q.repo.retry(lease, 'boom', 0);

    expect(await q.footprint('high-1')).toEqual(['p:high', 'queue:high', 's:pending', 't:high-1']);
    expect(await drainOneByOne(q)).toEqual(['high-1', 'normal-1']);
  });

  it('a requeued attempt (shutdown, prefetch handed back) goes back to its own level', async () => {
    const q = harness.queue();
    await seed(q, [['low-1', 'low']]);
    const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.requeue(lease);

    // Queued at its creation time again: its queue zset lists it (no s:pending entry).
    expect(await q.footprint('low-1')).toEqual(['p:low', 'queue:low', 't:low-1']);
    expect(await drainOneByOne(q)).toEqual(['low-1']);
  });

  it('the recoverer puts an expired lease back into its own level: a started attempt as a retry, a never-started one as a stall', async () => {
    const q = harness.queue();
    await seed(q, [
      ['started', 'high'],
      ['stalled', 'low'],
    ]);
    const leases = (await q.repo.fetch(2, LEASE_MS)).tasks;
    expect(leases.map((t) => t.id)).toEqual(['started', 'stalled']);
    await q.repo.start(leases[0]);
    await q.expire('started', 'stalled');

    const outcomes = await q.repo.recoverExpired(10, 'lease expired: worker lost', [0], MAX_STALLS);

    expect(outcomes).toEqual(
      expect.arrayContaining([
        { id: 'started', outcome: 'retry', retries: 1 },
        { id: 'stalled', outcome: 'stalled', retries: 0 },
      ]),
    );
    expect(outcomes).toHaveLength(2);
    expect(await q.footprint('started')).toEqual(['p:high', 'queue:high', 's:pending', 't:started']);
    expect(await q.footprint('stalled')).toEqual(['p:low', 'queue:low', 't:stalled']);
    expect(await drainOneByOne(q)).toEqual(['started', 'stalled']);
  });

  it('DELETE removes a waiting task of any level from its level and its priority index', async () => {
    const q = harness.queue();
    await q.repo.enqueue([
      newTask({ id: 'h', type: 'job', priority: 'high' }),
      newTask({ id: 'l', type: 'job', priority: 'low', delayMs: 60_000 }),
    ]);

    await q.repo.delete('h');
    await q.repo.delete('l');

    expect(await q.footprint('h')).toEqual([]);
    expect(await q.footprint('l')).toEqual([]);
    expect(await q.allKeys()).toEqual(['marker']);
  });

  it('retention removes a finished task from its priority index', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'h', type: 'job', priority: 'high' })]);
    const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.complete(lease, 'ok');
    expect(await q.footprint('h')).toEqual(['p:high', 's:completed', 't:h']);

    await q.finishedAgo('h', 60_000);
    expect(await q.repo.purgeExpired(1000, 10)).toBe(1);

    expect(await q.footprint('h')).toEqual([]);
  });
});
