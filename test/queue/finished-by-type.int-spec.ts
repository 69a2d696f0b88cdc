import { QueueAdminRepository } from '../../src/queue/queue-admin.repository';
import { LIST_FILTER_SCAN_MAX } from '../../src/queue/task-limits';
import { LEASE_MS, listPages, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

/**
 * Finished tasks have no index per type (lua/lib/common.lua index_add): a listing by type reads
 * s:completed / s:failed and skips the other types (list.lua, within the scan budget), and
 * POST /tasks/retry-failed?type= walks s:failed keeping the other types (retry-failed.lua, offset).
 */

/** `count` tasks ids `<prefix><00000>`, one enqueue call (one creation time), leased and finished with `mode`. */
async function finished(q: QueueFixture, prefix: string, count: number, type: (i: number) => string, mode: 'complete' | 'fail'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
  await q.repo.enqueue(ids.map((id, i) => newTask({ id, type: type(i) })));
  const { tasks } = await q.repo.fetch(count, LEASE_MS);
  expect(tasks).toHaveLength(count);
  const results = await q.repo.settle(tasks.map((lease) => ({ lease, mode, text: mode === 'fail' ? 'boom' : 'ok' })));
  expect(results.every((r) => r === 'applied')).toBe(true);
  return ids;
}

describe('finished tasks by type (no index per type)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('finishing leaves no status+type entry and no other: the status index (by finish time) holds it', async () => {
    const q = harness.queue();
    const [c] = await finished(q, 'c', 1, () => 'job', 'complete');
    const [f] = await finished(q, 'f', 1, () => 'job', 'fail');
    expect(await q.footprint(c)).toEqual(['s:completed', `t:${c}`]);
    expect(await q.footprint(f)).toEqual(['s:failed', `t:${f}`]);
  });

  it('one settle call finishing 1200 tasks (completed, failed, one retried between them) writes every sorted set once per key', async () => {
    const q = harness.queue();
    const ids = Array.from({ length: 1200 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    await q.repo.enqueue(ids.map((id) => newTask({ id, type: 'job' })));
    const { tasks } = await q.repo.fetch(1200, LEASE_MS);
    expect(tasks).toHaveLength(1200);
    const mode = (i: number) => (i === 601 ? 'retry' : i % 4 === 0 ? 'fail' : 'complete');
    const results = await q.repo.settle(tasks.map((lease, i) => ({ lease, mode: mode(i), text: mode(i) === 'complete' ? 'ok' : 'boom', delayMs: 60_000 })));
    expect(results.every((r) => r === 'applied')).toBe(true);

    expect(await q.redis.zcard(q.keys.active)).toBe(0);
    expect(await q.redis.zcard(q.keys.byStatus('failed'))).toBe(300);
    expect(await q.redis.zcard(q.keys.byStatus('completed'))).toBe(899);
    for (const i of [0, 1, 599, 600, 602, 1199]) {
      const status = mode(i) === 'fail' ? 'failed' : 'completed';
      const h = await q.hash(tasks[i].id);
      expect(h.status).toBe(status);
      expect(await q.score(q.keys.byStatus(status), tasks[i].id)).toBe(Number(h.updated_at));
      expect(await q.footprint(tasks[i].id)).toEqual(q.expectedFootprint(tasks[i].id, status));
    }
    expect(await q.footprint(tasks[601].id)).toEqual(q.expectedFootprint(tasks[601].id, 'pending', { waiting: true }));
  });

  it('lists the completed tasks of a rare type: short or empty pages within the scan budget, every one exactly once, latest finished first', async () => {
    const q = harness.queue();
    // The rare ones are the oldest: the first page examines the scan budget of others and finds none.
    const rare = await finished(q, 'r', 3, () => 'rare', 'complete');
    await finished(q, 'o', LIST_FILTER_SCAN_MAX + 50, () => 'other', 'complete');
    const pending = 'p00000';
    await q.repo.enqueue([newTask({ id: pending, type: 'rare' })]);

    const byStatus = await listPages(q, { status: 'completed', type: 'rare' }, 10);
    expect(byStatus.map((p) => p.length)).toEqual([0, 3]);
    expect(byStatus.flat().map((t) => t.id)).toEqual([...rare].reverse());

    // Every status: the pending one (from its type index) first, then the completed ones.
    const all = (await listPages(q, { type: 'rare' }, 2)).flat();
    expect(all.map((t) => t.id)).toEqual([pending, ...[...rare].reverse()]);
    expect(all.every((t) => t.type === 'rare')).toBe(true);
  });

  it('retry-failed by type sends back only that type, past more than one chunk of others', async () => {
    const q = harness.queue();
    // 1 of 40 is of type job, spread over 1200 failed tasks (ADMIN_CHUNK is 500).
    const ids = await finished(q, 'f', 1200, (i) => (i % 40 === 7 ? 'job' : 'other'), 'fail');
    const jobs = ids.filter((_, i) => i % 40 === 7);
    const admin = new QueueAdminRepository(harness.connections, q.repo);

    expect(await admin.retryFailed('default', 'job')).toBe(jobs.length);

    // Sent back due now, after their creation: also in s:pending (lua/lib/common.lua PENDING_INDEX).
    for (const id of jobs) expect(await q.footprint(id)).toEqual(q.expectedFootprint(id, 'pending', { waiting: true }));
    expect(await q.redis.zcard(q.keys.byStatus('failed'))).toBe(1200 - jobs.length);
    expect((await q.hash(ids[0])).status).toBe('failed');
    expect(await admin.retryFailed('default', 'job')).toBe(0);
  });

  it('a task finished before (with a status+type entry) leaves that entry when it is retried or removed', async () => {
    const q = harness.queue();
    const [a, b] = await finished(q, 'f', 2, () => 'job', 'fail');
    const legacy = q.keys.byStatusAndType('failed', 'job');
    const created = Number((await q.hash(a)).created_at);
    await q.redis.zadd(legacy, created, a, created, b);
    const admin = new QueueAdminRepository(harness.connections, q.repo);

    expect(await admin.retryFailed('default', 'job')).toBe(2);
    expect(await q.redis.exists(legacy)).toBe(0);
    expect(await q.footprint(a)).toEqual(q.expectedFootprint(a, 'pending', { waiting: true }));

    const other = harness.queue();
    const [c] = await finished(other, 'c', 1, () => 'job', 'complete');
    await other.redis.zadd(other.keys.byStatusAndType('completed', 'job'), created, c);
    await other.repo.delete(c);
    expect(await other.footprint(c)).toEqual([]);
  });
});
