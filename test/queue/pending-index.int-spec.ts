import { QueueAdminRepository } from '../../src/queue/queue-admin.repository';
import { QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { ListFilter } from '../../src/queue/queue.repository';
import { TASK_STATUSES } from '../../src/queue/task.model';
import { LEASE_MS, listPages, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

/**
 * s:pending holds only the pending tasks queued at another time than their creation (delayed,
 * scheduled, waiting for a retry, failed and sent back); a task due at its creation, or requeued at it,
 * is listed from its queue zset (lua/lib/common.lua PENDING_INDEX). Listings and counts see every
 * pending task exactly once, whichever index holds it, and tasks written by an older version (which put
 * every pending task in s:pending too) are listed once and leave s:pending when they are leased.
 */
describe('pending tasks listed from the queue zsets and s:pending', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /** Every pending task id, in listing order (newest created first, ids descending within a millisecond). */
  async function pendingInOrder(q: QueueFixture): Promise<string[]> {
    const ids = await q.redis.zrange(q.keys.queue, 0, -1);
    ids.push(...(await q.redis.zrange(q.keys.queueFor('high'), 0, -1)), ...(await q.redis.zrange(q.keys.queueFor('low'), 0, -1)));
    const rows = await Promise.all(ids.map(async (id) => ({ id, created: Number((await q.hash(id)).created_at) })));
    return rows.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((r) => r.id);
  }

  /**
   * One queue with pending tasks of every kind: plain ones of three levels, delayed, scheduled, one
   * waiting for a retry, one requeued, one failed and sent back, and one that a version before this one
   * wrote (STORE_TASK_DEFAULTS=true writes as it did); besides a processing and a completed task.
   */
  async function seedEveryKind(q: QueueFixture): Promise<void> {
    const older = harness.queue({ STORE_TASK_DEFAULTS: 'true', QUEUE_PREFIX: q.prefix });
    await q.repo.enqueue([newTask({ id: 'retried', type: 'job' }), newTask({ id: 'requeued', type: 'job' }), newTask({ id: 'revived', type: 'job', maxRetry: 0 })]);
    await q.repo.enqueue([newTask({ id: 'running', type: 'job' }), newTask({ id: 'done', type: 'job' })]);
    const leases = (await q.repo.fetch(5, LEASE_MS)).tasks;
    const lease = (id: string) => leases.find((l) => l.id === id)!;
    await q.repo.retry(lease('retried'), 'boom', 60_000);
    await q.repo.requeue(lease('requeued'));
    await q.repo.fail(lease('revived'), 'fatal');
    await q.repo.complete(lease('done'), 'ok');
    await new QueueAdminRepository(harness.connections, q.repo).retryFailed('default');
    await q.repo.enqueue([newTask({ id: 'delayed', type: 'mail', delayMs: 60_000 }), newTask({ id: 'at', type: 'job', runAt: Date.now() + 3_600_000 })]);
    await older.repo.enqueue([newTask({ id: 'old-1', type: 'job' }), newTask({ id: 'old-2', type: 'mail', priority: 'high' })]);
    await q.repo.enqueue([newTask({ id: 'hi', type: 'job', priority: 'high' }), newTask({ id: 'lo', type: 'mail', priority: 'low' })]);
    await q.repo.enqueue(Array.from({ length: 12 }, (_, i) => newTask({ id: `p${String(i).padStart(2, '0')}`, type: i % 2 ? 'job' : 'mail' })));
  }

  it('writes an s:pending entry only for a task queued at another time than its creation', async () => {
    const q = harness.queue();
    await seedEveryKind(q);

    const indexed = (await q.redis.zrange(q.keys.byStatus('pending'), 0, -1)).sort();
    // The older version's two tasks are indexed as it indexed them; of ours, the waiting ones only.
    expect(indexed).toEqual(['at', 'delayed', 'old-1', 'old-2', 'retried', 'revived']);
    for (const id of indexed) expect(await q.score(q.keys.byStatus('pending'), id)).toBe(Number((await q.hash(id)).created_at));
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });

  it.each<[string, ListFilter]>([
    ['pending', { status: 'pending' }],
    ['pending of one type', { status: 'pending', type: 'mail' }],
    ['normal pending', { status: 'pending', priority: 'normal' }],
  ])('%s: every task exactly once, newest created first, at every page size', async (_what, filter) => {
    const q = harness.queue();
    await seedEveryKind(q);
    let expected = await pendingInOrder(q);
    if (filter.type) {
      const types = await Promise.all(expected.map(async (id) => (await q.hash(id)).type));
      expected = expected.filter((_, i) => types[i] === filter.type);
    }
    if (filter.priority === 'normal') expected = expected.filter((id) => !['hi', 'lo', 'old-2'].includes(id));
    expect(expected.length).toBeGreaterThan(6);

    for (const limit of [1, 2, 5, 100]) {
      const got = (await listPages(q, filter, limit)).flat();
      expect({ limit, got: got.map((t) => t.id) }).toEqual({ limit, got: expected });
      expect(got.every((t) => t.status === 'pending')).toBe(true);
    }
  });

  it('the listing of every status holds each task once: pending, then processing, then finished', async () => {
    const q = harness.queue();
    await seedEveryKind(q);

    const got = (await listPages(q, {}, 3)).flat().map((t) => t.id);

    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual([...(await pendingInOrder(q)), 'running', 'done'].sort());
  });

  it('counts every pending task of every level (GET /queues, the gauges), whichever index lists it', async () => {
    const q = harness.queue();
    await seedEveryKind(q);

    const [, scheduled, , ...counts] = await q.repo.overview('default', TASK_STATUSES);

    expect(Object.fromEntries(TASK_STATUSES.map((s, i) => [s, counts[i]]))).toEqual({
      pending: (await pendingInOrder(q)).length,
      processing: 1,
      completed: 1,
      failed: 0,
    });
    expect(scheduled).toBe(3); // delayed, at, retried
  });

  it('a task leased, retried or requeued between two pages is neither skipped nor listed as another task', async () => {
    const q = harness.queue();
    await q.repo.enqueue(Array.from({ length: 6 }, (_, i) => newTask({ id: `a${i}`, type: 'job' })));
    await q.repo.enqueue(Array.from({ length: 6 }, (_, i) => newTask({ id: `b${i}`, type: 'job' })));
    const first = await q.repo.list({ status: 'pending' }, 4);
    expect(first.tasks.map((t) => t.id)).toEqual(['b5', 'b4', 'b3', 'b2']);

    // The oldest ones (not listed yet) change state: retried (s:pending), requeued (the queue again).
    const leases = (await q.repo.fetch(12, LEASE_MS)).tasks;
    const lease = (id: string) => leases.find((l) => l.id === id)!;
    await q.repo.retry(lease('a0'), 'boom', 60_000);
    await q.repo.requeue(lease('a1'));
    for (const id of ['b5', 'b4', 'b3', 'b2', 'b1', 'b0', 'a5', 'a4', 'a3', 'a2']) await q.repo.requeue(lease(id));

    const rest = (await listPagesFrom(q, first.next!)).map((t) => t.id);
    expect(rest).toEqual(['b1', 'b0', 'a5', 'a4', 'a3', 'a2', 'a1', 'a0']);
  });

  /** The pages of the pending listing after `cursor`. */
  async function listPagesFrom(q: QueueFixture, cursor: NonNullable<Awaited<ReturnType<QueueFixture['repo']['list']>>['next']>) {
    const out = [];
    let next: typeof cursor | undefined = cursor;
    for (let i = 0; next && i < 100; i += 1) {
      const page = await q.repo.list({ status: 'pending' }, 3, next);
      out.push(...page.tasks);
      next = page.next;
    }
    return out;
  }

  it('a task written by an older version leaves s:pending when leased; a new one never enters it', async () => {
    const q = harness.queue();
    const older = harness.queue({ STORE_TASK_DEFAULTS: 'true', QUEUE_PREFIX: q.prefix });
    await older.repo.enqueue([newTask({ id: 'old', type: 'job' })]);
    await q.repo.enqueue([newTask({ id: 'new', type: 'job' })]);
    expect(await q.redis.zrange(q.keys.byStatus('pending'), 0, -1)).toEqual(['old']);

    const leases = (await q.repo.fetch(2, LEASE_MS)).tasks;
    expect(leases.map((l) => l.id).sort()).toEqual(['new', 'old']);
    expect(await q.redis.exists(q.keys.byStatus('pending'))).toBe(0);

    // Both requeued (shutdown): back in the queue at their creation time, listed from there.
    for (const l of leases) await q.repo.requeue(l);
    expect(await q.redis.exists(q.keys.byStatus('pending'))).toBe(0);
    expect((await listPages(q, { status: 'pending' }, 10)).flat().map((t) => t.id).sort()).toEqual(['new', 'old']);
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });

  it('a listing of pending tasks does not wade through tasks delayed into the future', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'now', type: 'job' })]);
    // More delayed tasks than a filtered page examines (LIST_FILTER_SCAN_MAX): their queue scores are
    // all after now, where the listing does not read the queue zset.
    await q.repo.enqueue(Array.from({ length: 1500 }, (_, i) => newTask({ id: `later-${i}`, type: 'job', delayMs: 3_600_000 })));

    const page = await q.repo.list({ status: 'pending' }, 10);
    const all = (await listPages(q, { status: 'pending' }, 400)).flat().map((t) => t.id);

    // Full pages: had it read the queue zset from its top, the first page would have examined 1000
    // delayed entries (listed from s:pending instead) and come back short.
    expect(page.tasks).toHaveLength(10);
    expect(all).toHaveLength(1501);
    expect(new Set(all).size).toBe(1501);
    expect(all[all.length - 1]).toBe('now');
  });
});
