import { ListFilter } from '../../src/queue/queue.repository';
import { LIST_FILTER_SCAN_MAX } from '../../src/queue/task-limits';
import { TaskPriority } from '../../src/queue/task-options';
import { TaskStatus } from '../../src/queue/task.model';
import { LEASE_MS, listPages, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

interface Seeded {
  id: string;
  type: string;
  status: TaskStatus;
  priority: TaskPriority;
  created: number;
}

/**
 * Newest first. A high or low listing reads one index by creation time; a normal one reads the status
 * indexes: open tasks first, then finished ones (by finish time, which follows creation here: each task
 * is finished before the next is created).
 */
function expectedIds(seeded: Seeded[], filter: ListFilter): string[] {
  const twoParts = filter.priority !== 'high' && filter.priority !== 'low';
  const part = (s: Seeded) => (twoParts && (s.status === 'completed' || s.status === 'failed') ? 1 : 0);
  return seeded
    .filter((s) => (!filter.status || s.status === filter.status) && (!filter.type || s.type === filter.type))
    .filter((s) => !filter.priority || s.priority === filter.priority)
    .sort((a, b) => part(a) - part(b) || (a.created !== b.created ? b.created - a.created : a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((s) => s.id);
}

/** list.lua with a priority filter: the p:<level> index for high and low, a field condition for normal. */
describe('listing by priority', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /** 24 tasks, every combination of priority, type and status (completed, failed, pending) several times. */
  async function seedMix(q: QueueFixture): Promise<Seeded[]> {
    const seeded: Seeded[] = [];
    const priorities: TaskPriority[] = ['high', 'normal', 'low'];
    const statuses: TaskStatus[] = ['completed', 'pending', 'failed'];
    for (let i = 0; i < 24; i += 1) {
      const priority = priorities[i % 3];
      const type = i % 2 ? 'odd' : 'even';
      const status = statuses[Math.floor(i / 3) % 3];
      const id = `t${String(i).padStart(2, '0')}`;
      const created = await q.repo.enqueue([newTask({ id, type, priority })]);
      if (status !== 'pending') {
        const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
        expect(lease.id).toBe(id);
        if (status === 'completed') await q.repo.complete(lease, 'ok');
        else await q.repo.fail(lease, 'boom');
      } else {
        // Kept pending but out of the way of the next fetches: delayed, so listed from s:pending by its
        // creation time (lua/lib/common.lua PENDING_INDEX).
        await q.redis.zadd(q.keys.queueFor(priority), 'XX', 9e15, id);
        await q.redis.zadd(q.keys.byStatus('pending'), created, id);
      }
      seeded.push({ id, type, status, priority, created });
    }
    return seeded;
  }

  it.each<[string, ListFilter]>([
    ['high', { priority: 'high' }],
    ['low', { priority: 'low' }],
    ['normal', { priority: 'normal' }],
    ['high and completed', { priority: 'high', status: 'completed' }],
    ['low and type odd', { priority: 'low', type: 'odd' }],
    ['normal, pending, even', { priority: 'normal', status: 'pending', type: 'even' }],
  ])('%s: every matching task once, in listing order (open newest created first, finished latest finished first), across pages of 3', async (_what, filter) => {
    const q = harness.queue();
    const seeded = await seedMix(q);

    const got = (await listPages(q, filter, 3)).flat();

    expect(got.map((t) => t.id)).toEqual(expectedIds(seeded, filter));
    expect(got.length).toBeGreaterThan(0);
    for (const t of got) expect(t.priority ?? 'normal').toBe(filter.priority);
  });

  it('many tasks, every filter, small pages: each matching task exactly once, in order (windows that grow and shrink with the hit rate)', async () => {
    const q = harness.queue();
    // A fixed pseudo-random mix: runs of one priority and scattered others, so hit rates vary along the walk.
    let state = 7;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const seeded: Seeded[] = [];
    const priorities: TaskPriority[] = ['high', 'normal', 'low'];
    let current: TaskPriority = 'normal';
    for (let batch = 0; batch < 30; batch += 1) {
      const tasks = Array.from({ length: 10 }, (_, i) => {
        if (next() < 0.2) current = priorities[Math.floor(next() * 3)];
        const priority = next() < 0.1 ? priorities[Math.floor(next() * 3)] : current;
        return newTask({ id: `b${String(batch).padStart(2, '0')}-${i}`, type: next() < 0.5 ? 'a' : 'b', priority });
      });
      const created = await q.repo.enqueue(tasks);
      for (const t of tasks) seeded.push({ id: t.id, type: t.type, status: 'pending', priority: t.priority ?? 'normal', created });
    }
    for (const filter of [{ priority: 'normal' }, { priority: 'high', type: 'a' }, { priority: 'low', status: 'pending' }, { priority: 'normal', type: 'b' }] as ListFilter[]) {
      expect(expectedIds(seeded, filter).length).toBeGreaterThan(5);
      for (const limit of [1, 7, 50]) {
        const got = (await listPages(q, filter, limit)).flat().map((t) => t.id);
        expect({ filter, limit, got }).toEqual({ filter, limit, got: expectedIds(seeded, filter) });
      }
    }
  });

  it('high and low listings read their own index: full pages', async () => {
    const q = harness.queue();
    await seedMix(q);

    const got = await listPages(q, { priority: 'high' }, 3);

    expect(got.map((p) => p.length)).toEqual([3, 3, 2]);
  });

  it('a page filtered without an index examines at most LIST_FILTER_SCAN_MAX entries: short or empty pages, still complete', async () => {
    const q = harness.queue();
    // 5 normal tasks of type job, then more of another type than one page examines: the jobs are the oldest.
    await q.repo.enqueue(Array.from({ length: 5 }, (_, i) => newTask({ id: `n${i}`, type: 'job' })));
    const others = LIST_FILTER_SCAN_MAX + 100;
    await q.repo.enqueue(Array.from({ length: others }, (_, i) => newTask({ id: `o${String(i).padStart(5, '0')}`, type: 'other' })));

    const got = await listPages(q, { priority: 'normal', status: 'pending', type: 'job' }, 10);

    // The first page examined LIST_FILTER_SCAN_MAX other tasks and found none; the next one found all five.
    expect(got.map((p) => p.length)).toEqual([0, 5]);
    expect(got.flat().map((t) => t.id)).toEqual(['n4', 'n3', 'n2', 'n1', 'n0']);
  });
});
