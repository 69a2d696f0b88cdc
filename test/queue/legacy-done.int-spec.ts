import { QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

/**
 * A queue written by the version before finished tasks lost their `done` zset: a finished task was in
 * `done` (score = finish time) and in s:completed / s:failed scored by its creation time. Such data
 * stays after an upgrade in place, and processes of the old version go on writing it during a rolling
 * update. recover.lua moves `done`'s scores into the status indexes (in chunks) and retention counts
 * from the finish time whatever the entry says, so no such task is lost, kept forever or purged early.
 */
describe('a queue in the layout of the old version (legacy `done` zset)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /**
   * Finishes tasks `<prefix>-<i>` through the scripts (every 4th failed), then rewrites them as the old
   * version wrote them: status index entry at the creation time, `done` entry at the finish time.
   * Their finish times are `agoMs` back (hash and `done`), their creation another hour before that.
   */
  async function oldFinished(q: QueueFixture, prefix: string, count: number, agoMs: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < count; i += 1000) await q.repo.enqueue(ids.slice(i, i + 1000).map((id) => newTask({ id, type: 'job' })));
    for (let left = count; left > 0; ) {
      const { tasks } = await q.repo.fetch(Math.min(left, 1000), LEASE_MS);
      await q.repo.settle(tasks.map((lease) => ({ lease, mode: Number(lease.id.slice(-5)) % 4 === 0 ? 'fail' : 'complete', text: 'x' })));
      left -= tasks.length;
    }
    // The old version stored completed tasks in the full layout, not compact.
    const full = await Promise.all(ids.map((id) => q.hash(id)));
    const now = await q.redisNow();
    const m = q.redis.multi();
    ids.forEach((id, i) => {
      const status = i % 4 === 0 ? 'failed' : 'completed';
      const finished = now - agoMs + i;
      m.del(q.keys.task(id));
      m.hset(q.keys.task(id), { ...full[i], created_at: finished - 3_600_000, updated_at: finished });
      m.zadd(q.keys.byStatus(status), 'XX', finished - 3_600_000, id);
      m.zadd(q.keys.legacyDone, finished, id);
    });
    await m.exec();
    return ids;
  }

  const recoverDue = (q: QueueFixture) => q.repo.recoverDue(100, 'lost', [1000], MAX_STALLS);

  it('recover moves the finish times of `done` into s:completed / s:failed, 1000 per call, then `done` is gone', async () => {
    const q = harness.queue();
    const ids = await oldFinished(q, 'old', 2300, 60_000);
    // A stray entry (its task gone) and one of a task an old process sent back to pending since.
    await q.redis.zadd(q.keys.legacyDone, 1, 'ghost');
    await q.repo.enqueue([newTask({ id: 'back', type: 'job' })]);
    await q.redis.zadd(q.keys.legacyDone, 1, 'back');

    // More to move: the recoverer is told to come back at once (as with a backlog of leases).
    const first = await recoverDue(q);
    expect(first.nextDeadlineInMs).toBeLessThanOrEqual(0);
    expect(await q.redis.zcard(q.keys.legacyDone)).toBe(2302 - 1000);
    await recoverDue(q);
    const last = await recoverDue(q);
    expect(last.nextDeadlineInMs).toBeUndefined();
    expect(await q.redis.exists(q.keys.legacyDone)).toBe(0);

    for (const i of [0, 1, 999, 1000, 2299]) {
      const h = await q.hash(ids[i]);
      expect(await q.score(q.keys.byStatus(h.status as 'completed' | 'failed'), ids[i])).toBe(Number(h.updated_at));
      expect(await q.footprint(ids[i])).toEqual(q.expectedFootprint(ids[i], h.status as 'completed'));
    }
    expect(await q.footprint('back')).toEqual(q.expectedFootprint('back', 'pending'));
    expect(await q.redis.zcard(q.keys.byStatus('completed'))).toBe(1725);
    expect(await q.redis.zcard(q.keys.byStatus('failed'))).toBe(575);
    // Listed by finish time now: the latest finished first.
    const { tasks } = await q.repo.list({ status: 'completed' }, 3);
    expect(tasks.map((t) => t.id)).toEqual([ids[2299], ids[2298], ids[2297]]);
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });

  it('retention removes old-layout tasks by their finish time, before and after the move, and nothing else', async () => {
    const q = harness.queue();
    // Finished 2 h ago (due at a 1 h retention) and 10 min ago (not due), both created an hour earlier
    // still: by their creation-time entries, both would look due.
    const due = await oldFinished(q, 'due', 20, 2 * 3_600_000);
    const kept = await oldFinished(q, 'kept', 20, 600_000);

    // Before recover ran (an old process may have written them a moment ago).
    let handled = 0;
    for (let n = -1; n !== 0; handled += n) n = await q.repo.purgeExpired(3_600_000, 7);
    expect(handled).toBe(40);
    for (const id of due) expect(await q.repo.get(id)).toBeUndefined();
    for (const id of kept) {
      const h = await q.hash(id);
      expect(h.status).toMatch(/^(completed|failed)$/);
      // Its entry now at its finish time: retention will find it when it is due.
      expect(await q.score(q.keys.byStatus(h.status as 'completed'), id)).toBe(Number(h.updated_at));
    }

    // recover drops the `done` entries of the purged tasks and keeps the others' scores.
    await recoverDue(q);
    expect(await q.redis.exists(q.keys.legacyDone)).toBe(0);
    expect(await q.repo.purgeExpired(3_600_000, 100)).toBe(0);
    // Once due (moved 2 h back), they go too.
    for (const id of kept) await q.finishedAgo(id, 2 * 3_600_000);
    expect(await q.repo.purgeExpired(3_600_000, 100)).toBe(20);
    expect((await q.allKeys()).filter((k) => k.startsWith('t:') || k.startsWith('s:') || k === 'done')).toEqual([]);
  });

  it('a rolling update: an old process writes `done` again after the move; the next recover moves it too', async () => {
    const q = harness.queue();
    await oldFinished(q, 'a', 5, 1000);
    await recoverDue(q);
    expect(await q.redis.exists(q.keys.legacyDone)).toBe(0);
    const later = await oldFinished(q, 'b', 5, 500);
    expect(await q.redis.zcard(q.keys.legacyDone)).toBe(5);

    await recoverDue(q);

    expect(await q.redis.exists(q.keys.legacyDone)).toBe(0);
    for (const id of later) {
      const h = await q.hash(id);
      expect(await q.score(q.keys.byStatus(h.status as 'completed'), id)).toBe(Number(h.updated_at));
    }
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });
});
