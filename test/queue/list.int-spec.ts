import { randomUUID } from 'node:crypto';
import { ListFilter } from '../../src/queue/queue.repository';
import { ListCursor, TaskRecord, TaskStatus } from '../../src/queue/task.model';
import { LEASE_MS, listPages, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

interface Seeded {
  id: string;
  type: string;
  status: TaskStatus;
  created: number;
  /** Finish time of a completed or failed task. */
  finished?: number;
}

const isFinished = (s: { status: TaskStatus }) => s.status === 'completed' || s.status === 'failed';

/**
 * Listing order: open tasks (pending, processing) by creation score descending, then finished ones
 * (completed, failed) by finish time descending; ties by id descending (byte order).
 */
function byListingOrder(a: Seeded, b: Seeded): number {
  if (isFinished(a) !== isFinished(b)) return isFinished(a) ? 1 : -1;
  const sa = isFinished(a) ? (a.finished as number) : a.created;
  const sb = isFinished(b) ? (b.finished as number) : b.created;
  if (sa !== sb) return sb - sa;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The cursor after a task: its part, and its creation time (open) or finish time (finished). */
function positionOf(t: TaskRecord): ListCursor {
  return isFinished(t) ? { id: t.id, score: t.completedAt as number, finished: true } : { id: t.id, score: t.createdAt };
}

/** The finish time of each finished task, as stored. */
async function refreshStatuses(q: QueueFixture, seeded: Seeded[]): Promise<void> {
  for (const s of seeded) {
    const t = await q.repo.get(s.id);
    s.status = t?.status as TaskStatus;
    s.finished = t?.completedAt;
  }
}

function expectedIds(seeded: Seeded[], filter: ListFilter): string[] {
  return seeded
    .filter((s) => (!filter.status || s.status === filter.status) && (!filter.type || s.type === filter.type))
    .sort(byListingOrder)
    .map((s) => s.id);
}

/**
 * Walks every page; checks page sizes and the has-more flag on the way (a full page unless a byte
 * budget is given, which may end pages early).
 */
async function walk(
  q: QueueFixture,
  filter: ListFilter,
  limit: number,
  between?: () => Promise<void>,
  maxBytes?: number,
): Promise<TaskRecord[]> {
  const all: TaskRecord[] = [];
  let cursor: ListCursor | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const got = await q.repo.list(filter, limit, cursor, maxBytes);
    all.push(...got.tasks);
    if (!got.next) {
      expect(got.tasks.length).toBeLessThanOrEqual(limit);
      return all;
    }
    if (maxBytes === undefined) expect(got.tasks).toHaveLength(limit);
    else expect(got.tasks.length).toBeGreaterThan(0);
    const last = got.tasks[got.tasks.length - 1];
    expect(got.next).toEqual(positionOf(last));
    cursor = got.next;
    await between?.();
  }
  throw new Error('pagination did not end');
}

/**
 * Seeds tasks one after another (creation times from Redis, ties possible), each brought to its
 * status through the scripts: every task is leased right after it is enqueued (earlier pending ones
 * wait far in the future, so fetch takes exactly the new one), then completed, failed, kept
 * processing, or retried far ahead (pending).
 */
async function seedStatuses(q: QueueFixture, plan: Array<[string, string, TaskStatus]>): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  for (const [id, type, status] of plan) {
    const created = await q.repo.enqueue([newTask({ id, type })]);
    const [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(t.id).toBe(id);
    if (status === 'completed') await q.repo.complete(t, 'ok');
    if (status === 'failed') await q.repo.fail(t, 'boom');
    if (status === 'pending') await q.repo.retry(t, 'later', 1_000_000_000);
    seeded.push({ id, type, status, created, finished: (await q.repo.get(id))?.completedAt });
  }
  return seeded;
}

/** Waits until Redis' clock has moved on by a millisecond, so the next write gets a later time. */
async function nextMs(q: QueueFixture): Promise<void> {
  const at = await q.redisNow();
  while ((await q.redisNow()) === at);
}

describe('list.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  describe('filters', () => {
    let q: QueueFixture;
    let seeded: Seeded[];

    beforeAll(async () => {
      q = harness.queue();
      seeded = await seedStatuses(q, [
        ['p1', 'email', 'pending'],
        ['r1', 'sms', 'processing'],
        ['c1', 'email', 'completed'],
        ['f1', 'sms', 'failed'],
        ['p2', 'sms', 'pending'],
        ['c2', 'sms', 'completed'],
        ['r2', 'email', 'processing'],
        ['f2', 'email', 'failed'],
        ['c3', 'email', 'completed'],
      ]);
    });

    it.each<{ filter: ListFilter }>([
      { filter: {} },
      { filter: { status: 'pending' } },
      { filter: { status: 'processing' } },
      { filter: { status: 'completed' } },
      { filter: { status: 'failed' } },
      { filter: { type: 'email' } },
      { filter: { type: 'sms' } },
      { filter: { type: 'push' } },
      { filter: { status: 'completed', type: 'email' } },
      { filter: { status: 'failed', type: 'sms' } },
      { filter: { status: 'pending', type: 'push' } },
    ])('lists open tasks newest created first, then finished ones latest finished first, with filter $filter', async ({ filter }) => {
      const page = await q.repo.list(filter, 100);
      const want = expectedIds(seeded, filter);
      expect(page.tasks.map((t) => t.id)).toEqual(want);
      expect(page.next).toBeUndefined();
      for (const t of page.tasks) {
        const s = seeded.find((x) => x.id === t.id) as Seeded;
        expect(t).toMatchObject({ type: s.type, status: s.status, createdAt: s.created });
      }
    });

    it('sanity: the seed covers every status and both types', () => {
      expect(new Set(seeded.map((s) => s.status)).size).toBe(4);
      expect(expectedIds(seeded, { type: 'email' }).length).toBeGreaterThan(0);
      expect(expectedIds(seeded, { type: 'sms' }).length).toBeGreaterThan(0);
    });

    it('returns whole task records, parsed', async () => {
      const { tasks } = await q.repo.list({ status: 'completed', type: 'sms' }, 10);
      expect(tasks).toEqual([
        expect.objectContaining({ id: 'c2', type: 'sms', status: 'completed', result: 'ok', attempts: 1, retries: 0 }),
      ]);
    });
  });

  describe('pagination', () => {
    it.each([
      { count: 0, limit: 7, pages: 1 },
      { count: 3, limit: 10, pages: 1 },
      { count: 7, limit: 7, pages: 1 },
      { count: 14, limit: 7, pages: 2 },
      { count: 15, limit: 7, pages: 3 },
      { count: 1, limit: 1, pages: 1 },
      { count: 2, limit: 1, pages: 2 },
    ])('$count tasks with limit $limit take $pages page(s), has-more false on the last', async ({ count, limit, pages }) => {
      const q = harness.queue();
      for (let i = 0; i < count; i += 1) await q.repo.enqueue([newTask({ id: `t${i}` })]);
      let seen = 0;
      let cursor: ListCursor | undefined;
      for (let p = 1; p <= pages; p += 1) {
        const page = await q.repo.list({}, limit, cursor);
        seen += page.tasks.length;
        expect(page.next !== undefined).toBe(p < pages);
        cursor = page.next;
      }
      expect(seen).toBe(count);
    });

    async function seedBatch(q: QueueFixture): Promise<Seeded[]> {
      const seeded: Seeded[] = [];
      const add = async (ids: string[], type: (i: number) => string) => {
        const at = await q.repo.enqueue(ids.map((id, i) => newTask({ id, type: type(i) })));
        ids.forEach((id, i) => seeded.push({ id, type: type(i), status: 'pending', created: at }));
      };
      await add(['old-1', 'old-2', 'old-3'], () => 'a');
      // 250 tasks created in the same millisecond (one call), random ids, two types.
      await add(Array.from({ length: 250 }, () => randomUUID()), (i) => (i % 3 === 0 ? 'b' : 'a'));
      await add(['new-1', 'new-2', 'new-3'], () => 'b');
      return seeded;
    }

    it.each<{ filter: ListFilter }>([{ filter: {} }, { filter: { type: 'b' } }, { filter: { status: 'pending', type: 'a' } }])(
      'walks every task exactly once in order when 250 share one millisecond (filter $filter, limit 7)',
      async ({ filter }) => {
        const q = harness.queue();
        const seeded = await seedBatch(q);
        const want = expectedIds(seeded, filter);
        expect(want.length).toBeGreaterThan(50);

        const got = (await walk(q, filter, 7)).map((t) => t.id);

        expect(new Set(got).size).toBe(got.length);
        expect(got).toEqual(want);
      },
    );

    it('merges the status indexes with ties across them and still walks every task exactly once', async () => {
      const q = harness.queue();
      const seeded = await seedBatch(q);
      // Spread the tied batch over all four statuses.
      const leased = (await q.repo.fetch(60, LEASE_MS)).tasks;
      for (const [i, t] of leased.entries()) {
        if (i % 3 === 0) await q.repo.complete(t, 'ok');
        else if (i % 3 === 1) await q.repo.fail(t, 'boom');
      }
      await refreshStatuses(q, seeded);
      expect(new Set(seeded.map((s) => s.status)).size).toBe(4);

      // Processing tasks are read from `active` (no index of their own), tied ones included.
      expect(expectedIds(seeded, { status: 'processing', type: 'a' }).length).toBeGreaterThan(7);
      const filters: ListFilter[] = [{}, { type: 'a' }, { status: 'processing' }, { status: 'processing', type: 'a' }, { status: 'completed' }, { status: 'failed', type: 'a' }];
      for (const filter of filters) {
        const got = (await walk(q, filter, 7)).map((t) => t.id);
        expect(new Set(got).size).toBe(got.length);
        expect(got).toEqual(expectedIds(seeded, filter));
      }
    });

    it('lists every task at least once, in order within each part, when tasks change status between pages', async () => {
      const q = harness.queue();
      const seeded = await seedBatch(q);
      let tick = 0;

      const got = await walk(q, {}, 7, async () => {
        // Lease and finish tasks that are both behind and ahead of the cursor.
        tick += 1;
        const { tasks } = await q.repo.fetch(4, LEASE_MS);
        if (tasks[0]) await q.repo.complete(tasks[0], 'ok');
        if (tasks[1]) await q.repo.fail(tasks[1], 'boom');
      });

      expect(tick).toBeGreaterThan(30);
      // No gap: a task finished behind the cursor moved to the finished part, read later (listed twice).
      const ids = got.map((t) => t.id);
      expect(new Set(ids)).toEqual(new Set(seeded.map((s) => s.id)));
      // Each part in its order; the open part first.
      const firstFinished = got.findIndex(isFinished);
      expect(got.slice(firstFinished).every(isFinished)).toBe(true);
      const positions = got.map(positionOf);
      const outOfOrder = positions.filter((b, i) => {
        const a = positions[i - 1];
        return i > 0 && Boolean(a.finished) === Boolean(b.finished) && !(a.score > b.score || (a.score === b.score && a.id > b.id));
      });
      expect(outOfOrder).toEqual([]);
      // Some were listed twice: open, then finished after the walk had passed them.
      expect(ids.length).toBeGreaterThan(seeded.length);
    });

    it('lists finished tasks latest finished first, not by creation (status, type and every status)', async () => {
      const q = harness.queue();
      // Created a, b, c (in that order), finished c, a, b: by finish time b, a, c.
      for (const id of ['a', 'b', 'c']) {
        await q.repo.enqueue([newTask({ id, type: 'x' })]);
        await nextMs(q);
      }
      await q.repo.enqueue([newTask({ id: 'open', type: 'x', delayMs: 1_000_000_000 })]);
      const leases = new Map((await q.repo.fetch(3, LEASE_MS)).tasks.map((t) => [t.id, t]));
      for (const id of ['c', 'a', 'b']) {
        await q.repo.complete(leases.get(id)!, 'ok');
        await nextMs(q);
      }
      const finish = async (id: string) => (await q.repo.get(id))?.completedAt as number;
      expect(await finish('c')).toBeLessThan(await finish('a'));
      expect(await finish('a')).toBeLessThan(await finish('b'));

      expect((await q.repo.list({ status: 'completed' }, 10)).tasks.map((t) => t.id)).toEqual(['b', 'a', 'c']);
      expect((await q.repo.list({ status: 'completed', type: 'x' }, 10)).tasks.map((t) => t.id)).toEqual(['b', 'a', 'c']);
      expect((await q.repo.list({}, 10)).tasks.map((t) => t.id)).toEqual(['open', 'b', 'a', 'c']);
      expect((await q.repo.list({ type: 'x' }, 10)).tasks.map((t) => t.id)).toEqual(['open', 'b', 'a', 'c']);
      // Page by page, across the parts: the cursor carries the part.
      const pages = await listPages(q, {}, 1);
      expect(pages.map((p) => p.map((t) => t.id))).toEqual([['open'], ['b'], ['a'], ['c']]);
    });

    it('takes a cursor of the open part where the listing has no open part to the start of the finished part', async () => {
      const q = harness.queue();
      await seedStatuses(q, [
        ['c1', 'x', 'completed'],
        ['c2', 'x', 'completed'],
      ]);
      // A cursor from before the finished part existed: "<creation score>:<id>".
      const page = await q.repo.list({ status: 'completed' }, 10, { score: 1, id: 'c1' });
      expect(page.tasks.map((t) => t.id)).toEqual(['c2', 'c1']);
    });

    it('merges queues by part, then score: open tasks of every queue before finished ones, page by page', async () => {
      const q = harness.queue();
      // Created o1, m.o2 (open), then m.f2, f1; finished f1, then m.f2. By creation alone the order
      // would be f1, m.f2, m.o2, o1.
      await q.repo.enqueue([newTask({ id: 'o1', delayMs: 1_000_000_000 })]);
      await nextMs(q);
      await q.repo.enqueue([newTask({ id: 'm.o2', queue: 'm', delayMs: 1_000_000_000 })]);
      await nextMs(q);
      await q.repo.enqueue([newTask({ id: 'm.f2', queue: 'm' })]);
      await nextMs(q);
      await q.repo.enqueue([newTask({ id: 'f1' })]);
      const [f1] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      const [f2] = (await q.repo.fetch(1, LEASE_MS, 0, 'm')).tasks;
      expect([f1.id, f2.id]).toEqual(['f1', 'm.f2']);
      await q.repo.complete(f1, 'ok');
      await nextMs(q);
      await q.repo.complete(f2, 'ok');
      const order = ['m.o2', 'o1', 'm.f2', 'f1'];
      const one = await q.repo.list({}, 10);
      expect(one.tasks.map((t) => t.id)).toEqual(order);
      for (const limit of [1, 2, 3]) {
        const pages = await listPages(q, {}, limit);
        expect(pages.flat().map((t) => t.id)).toEqual(order);
      }
    });
  });

  describe('byte budget', () => {
    /** Bytes of a task hash as list.lua counts them: every field name and value. */
    const hashBytes = (h: Record<string, string>) => Object.entries(h).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

    it('stops adding tasks once the hashes read reach the budget, and says there is more', async () => {
      const q = harness.queue();
      for (let i = 0; i < 6; i += 1) await q.repo.enqueue([newTask({ id: `t${i}`, payload: 'p'.repeat(1000) })]);
      const size = hashBytes(await q.hash('t0'));
      expect(size).toBeGreaterThan(1000);

      // Budget for two and a half hashes: the third is read (2 * size < budget), then the page ends.
      const page = await q.repo.list({}, 10, undefined, Math.floor(2.5 * size));

      expect(page.tasks).toHaveLength(3);
      const last = page.tasks[2];
      expect(page.next).toEqual({ id: last.id, score: last.createdAt });
    });

    it('returns at least one task per page, however small the budget', async () => {
      const q = harness.queue();
      for (let i = 0; i < 3; i += 1) await q.repo.enqueue([newTask({ id: `t${i}` })]);
      const page = await q.repo.list({}, 10, undefined, 1);
      expect(page.tasks).toHaveLength(1);
      expect(page.next).toBeDefined();
    });

    it.each([{ filter: {} }, { filter: { type: 'b' } }] as Array<{ filter: ListFilter }>)(
      'walking with a small budget still returns every task exactly once, in order (filter $filter)',
      async ({ filter }) => {
        const q = harness.queue();
        const seeded: Seeded[] = [];
        for (let i = 0; i < 40; i += 1) {
          const type = i % 2 ? 'a' : 'b';
          const id = `t${String(i).padStart(2, '0')}`;
          const created = await q.repo.enqueue([newTask({ id, type, payload: 'x'.repeat(50 * (i % 7)) })]);
          seeded.push({ id, type, status: 'pending', created });
        }

        const got = (await walk(q, filter, 10, undefined, 700)).map((t) => t.id);

        expect(new Set(got).size).toBe(got.length);
        expect(got).toEqual(expectedIds(seeded, filter));
      },
    );
  });
});
