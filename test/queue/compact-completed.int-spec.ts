import { QueueAdminRepository } from '../../src/queue/queue-admin.repository';
import { QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { LeaseLostError } from '../../src/queue/queue-errors';
import { COMPACT_PAYLOAD_MAX_CHARS } from '../../src/queue/queue.repository';
import { LeasedTask, NewTask, TaskRecord } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';
import { testConfig } from '../support/test-app';

const WORKER = 'höst-ä|1-123/4';
/** As stored: storableWorkerId keeps `|` out of history entries. */
const STORED_WORKER = 'höst-ä_1-123/4';
/** Compaction is on by default (COMPACT_COMPLETED_TASKS); these name the setting anyway. */
const COMPACT = { COMPACT_COMPLETED_TASKS: 'true' };
const FULL = { COMPACT_COMPLETED_TASKS: 'false' };

/**
 * A completed task is packed in place by finish (lua/lib/common.lua compact_z): the common fields in
 * `z`, the payload in `p`, the result in `o`, the rest as they were, no status. These check the stored layout and that every reader (get, list
 * and its filters, delete, retention, bulk delete, admin retry, late or repeated settles, heartbeat,
 * the integrity checker) sees the task exactly as before, against a real Redis.
 */
describe('compact completed tasks', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  async function leaseOne(q: QueueFixture, task: NewTask): Promise<LeasedTask> {
    await q.repo.enqueue([task]);
    const [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(t.id).toBe(task.id);
    return t;
  }

  /** Runs task `id` to completion with `result`, after `retries` failed attempts. */
  async function completed(q: QueueFixture, task: NewTask, result: string, retries = 0): Promise<LeasedTask> {
    let t = await leaseOne(q, task);
    for (let i = 0; i < retries; i += 1) {
      await q.repo.start(t, WORKER);
      await q.repo.retry(t, `boom ${i}`, 0);
      [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    }
    await q.repo.start(t, WORKER);
    await q.repo.complete(t, result);
    return t;
  }

  it('stores a completed task in three fields, and reads it back whole', async () => {
    const q = harness.queue(COMPACT);
    const before = Date.now();
    await completed(q, newTask({ id: 'c1', type: 'mail', payload: '{"to":"x"}', maxRetry: 5 }), 'sent');

    const raw = await q.rawHash('c1');
    expect(Object.keys(raw).sort()).toEqual(['o', 'p', 'z']);
    expect(raw).toMatchObject({ p: '{"to":"x"}', o: 'sent' });
    // created_at, then ms after it; retries '' (none spent: a new task has no retries field); the
    // worker measured in bytes, the type last.
    expect(raw.z).toMatch(new RegExp(`^\\d{13}\\|\\d+\\|\\d+\\|1\\|\\|5\\|\\|${Buffer.byteLength(STORED_WORKER)}\\|höst-ä_1-123/4mail$`));

    const task = (await q.repo.get('c1')) as TaskRecord;
    expect(task).toMatchObject({
      id: 'c1',
      type: 'mail',
      payload: '{"to":"x"}',
      status: 'completed',
      result: 'sent',
      retries: 0,
      maxRetry: 5,
      attempts: 1,
    });
    expect(task.createdAt).toBeGreaterThanOrEqual(before - 5000);
    expect(task.startedAt).toBeGreaterThanOrEqual(task.createdAt);
    expect(task.updatedAt).toBeGreaterThanOrEqual(task.startedAt as number);
    expect(task.completedAt).toBe(task.updatedAt);
    expect(task.history).toEqual([{ attempt: 1, outcome: 'completed', startedAt: task.startedAt, endedAt: task.updatedAt, workerId: STORED_WORKER, error: undefined }]);
  });

  it('a task completed without a start keeps no start (started `-`)', async () => {
    const q = harness.queue(COMPACT);
    const t = await leaseOne(q, newTask({ id: 'c0', type: 'job' }));
    await q.repo.complete(t, 'quick');
    expect((await q.rawHash('c0')).z).toMatch(/^\d{13}\|\d+\|\|1\|\|3\|-\|\|job$/);
    const got = (await q.repo.get('c0')) as TaskRecord;
    expect(got).toMatchObject({ status: 'completed', attempts: 1, result: 'quick', startedAt: undefined });
    expect(got.history).toEqual([{ attempt: 1, outcome: 'completed', startedAt: undefined, endedAt: got.updatedAt, workerId: undefined, error: undefined }]);
  });

  it('keeps the fields it does not pack (error of an earlier attempt, priority, options, schedule) and the history', async () => {
    const q = harness.queue(COMPACT);
    const task = newTask({ id: 'c2', type: 'a|b', priority: 'high', timeoutMs: 1234, scheduleId: 'sch', scheduledFor: 1700000000000 });
    await completed(q, task, 'done at last', 2);

    const raw = await q.rawHash('c2');
    expect(raw).toMatchObject({ error: 'boom 1', priority: 'high', sched: 'sch|1700000000000' });
    expect(raw.opts).toBeDefined();
    expect(Object.keys(raw).filter((f) => f.startsWith('h_') || ['status', 'type', 'payload', 'result', 'attempts', 'created_at', 'started_at', 'worker'].includes(f))).toEqual([]);

    const got = (await q.repo.get('c2')) as TaskRecord;
    expect(got).toMatchObject({ type: 'a|b', status: 'completed', result: 'done at last', error: 'boom 1', retries: 2, attempts: 3 });
    expect(got).toMatchObject({ priority: 'high', timeoutMs: 1234, scheduleId: 'sch', scheduledFor: 1700000000000 });
    expect(got.history?.map((h) => [h.attempt, h.outcome, h.error, h.workerId])).toEqual([
      [1, 'retry', 'boom 0', STORED_WORKER],
      [2, 'retry', 'boom 1', STORED_WORKER],
      [3, 'completed', undefined, STORED_WORKER],
    ]);
  });

  it("a fused 'run' after a retry packs the new attempt's start and worker, not the archived one's", async () => {
    const q = harness.queue(COMPACT);
    let t = await leaseOne(q, newTask({ id: 'f1', type: 'job' }));
    await q.repo.start(t, 'first/1');
    await q.repo.retry(t, 'boom', 0);
    [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(await q.repo.settle([{ lease: t, mode: 'run', text: 'second time', workerId: 'second/2' }])).toEqual(['applied']);

    const got = (await q.repo.get('f1')) as TaskRecord;
    expect(got).toMatchObject({ status: 'completed', attempts: 2, retries: 1, result: 'second time', error: 'boom' });
    expect(got.startedAt).toBe(got.updatedAt);
    expect(got.history?.map((h) => [h.attempt, h.outcome, h.workerId, h.startedAt === undefined])).toEqual([
      [1, 'retry', 'first/1', false],
      [2, 'completed', 'second/2', false],
    ]);
    expect((await q.rawHash('f1')).z).toMatch(/^\d{13}\|\d+\|0\|2\|1\|3\|\|8\|second\/2job$/);
  });

  it('leaves a large payload under its own name when the worker holds it; packs it when the caller does not say', async () => {
    const q = harness.queue(COMPACT);
    const large = `é${'x'.repeat(COMPACT_PAYLOAD_MAX_CHARS)}`;
    // As a worker completes: the LeasedTask (with its payload) is the lease.
    const leased = await leaseOne(q, newTask({ id: 'big', type: 'job', payload: large }));
    expect(leased.payload).toBe(large);
    await q.repo.settle([{ lease: leased, mode: 'run', text: 'done', workerId: WORKER }]);
    const raw = await q.rawHash('big');
    expect(Object.keys(raw).sort()).toEqual(['o', 'payload', 'z']);
    expect(raw.payload).toBe(large);
    expect(await q.repo.get('big')).toMatchObject({ id: 'big', status: 'completed', payload: large, result: 'done', type: 'job', attempts: 1 });
    // Lua readers see the payload too: a filter on another field, and retention, go through compact_read.
    expect((await q.repo.list({ status: 'completed', type: 'job' }, 10)).tasks.map((t) => [t.id, t.payload])).toEqual([['big', large]]);
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);

    // A payload at the limit, and a large one completed through a lease without its payload: packed as `p`.
    const small = 'y'.repeat(COMPACT_PAYLOAD_MAX_CHARS);
    const s1 = await leaseOne(q, newTask({ id: 'small', type: 'job', payload: small }));
    await q.repo.settle([{ lease: s1, mode: 'run', text: 'done', workerId: WORKER }]);
    expect(Object.keys(await q.rawHash('small')).sort()).toEqual(['o', 'p', 'z']);
    const b2 = await leaseOne(q, newTask({ id: 'big2', type: 'job', payload: large }));
    await q.repo.complete({ id: b2.id, token: b2.token }, 'done');
    expect(Object.keys(await q.rawHash('big2')).sort()).toEqual(['o', 'p', 'z']);
    expect((await q.repo.get('big2'))?.payload).toBe(large);

    await q.finishedAgo('big', 60_000);
    expect(await q.repo.purgeExpired(30_000, 100)).toBe(1);
    expect(await q.footprint('big')).toEqual([]);
  });

  it('packs by default, without the setting', async () => {
    const q = harness.queue();
    await completed(q, newTask({ id: 'd1', type: 'job' }), 'packed by default');
    const raw = await q.rawHash('d1');
    expect(Object.keys(raw).sort()).toEqual(['o', 'p', 'z']);
    expect(raw.o).toBe('packed by default');
    expect(await q.repo.get('d1')).toMatchObject({ id: 'd1', status: 'completed', result: 'packed by default', type: 'job' });
  });

  it('with COMPACT_COMPLETED_TASKS=false the full layout stays (no h_* left); both layouts mix in one queue', async () => {
    const full = harness.queue(FULL);
    await completed(full, newTask({ id: 'k1', type: 'job' }), 'kept whole', 1);
    const raw = await full.rawHash('k1');
    expect(raw).toMatchObject({ status: 'completed', type: 'job', result: 'kept whole', attempts: '2', retries: '1', error: 'boom 0' });
    expect(Object.keys(raw).filter((f) => f === 'z' || f.startsWith('h_'))).toEqual([]);
    const got = (await full.repo.get('k1')) as TaskRecord;
    expect(got.history?.map((h) => [h.attempt, h.outcome])).toEqual([
      [1, 'retry'],
      [2, 'completed'],
    ]);

    // The same queue read and written by a process that packs: both layouts in one listing.
    const packing = new QueueFixture(testConfig({ ...COMPACT, QUEUE_PREFIX: full.prefix }), harness.connections, harness.redis);
    await completed(packing, newTask({ id: 'k2', type: 'job' }), 'packed');
    expect(Object.keys(await packing.rawHash('k2'))).toContain('z');
    expect((await packing.repo.list({ status: 'completed', type: 'job' }, 10)).tasks.map((t) => [t.id, t.result])).toEqual([
      ['k2', 'packed'],
      ['k1', 'kept whole'],
    ]);
  });

  it('lists and filters compact tasks like full ones (status, type, priority)', async () => {
    const q = harness.queue(COMPACT);
    await completed(q, newTask({ id: 'l1', type: 'x|y' }), 'r1');
    await completed(q, newTask({ id: 'l2', type: 'other' }), 'r2');
    await completed(q, newTask({ id: 'l3', type: 'x|y', priority: 'high' }), 'r3');
    await q.repo.enqueue([newTask({ id: 'l4', type: 'x|y' })]);

    const ids = async (filter: Parameters<QueueFixture['repo']['list']>[0]) => (await q.repo.list(filter, 10)).tasks.map((t) => `${t.id}:${t.status}:${t.type}`);
    expect(await ids({ status: 'completed' })).toEqual(['l3:completed:x|y', 'l2:completed:other', 'l1:completed:x|y']);
    expect(await ids({ status: 'completed', type: 'x|y' })).toEqual(['l3:completed:x|y', 'l1:completed:x|y']);
    expect(await ids({ type: 'x|y' })).toEqual(['l4:pending:x|y', 'l3:completed:x|y', 'l1:completed:x|y']);
    expect(await ids({ priority: 'normal', status: 'completed' })).toEqual(['l2:completed:other', 'l1:completed:x|y']);
    expect(await ids({ priority: 'high', status: 'completed', type: 'x|y' })).toEqual(['l3:completed:x|y']);
  });

  it('a late settle of a completed task loses its lease; a repeated completion is recognised; heartbeat drops it', async () => {
    const q = harness.queue(COMPACT);
    const t = await completed(q, newTask({ id: 'c3' }), 'once');
    const stored = await q.rawHash('c3');

    await expect(q.repo.retry(t, 'late', 0)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(q.repo.fail(t, 'late')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(q.repo.complete(t, 'another result')).rejects.toBeInstanceOf(LeaseLostError);
    // The same completion again (a retried call whose reply was lost) is applied once, not twice.
    await expect(q.repo.complete(t, 'once')).resolves.toBeUndefined();
    expect(await q.repo.heartbeat([t], LEASE_MS)).toEqual([{ id: t.id, token: t.token }]);
    expect(await q.rawHash('c3')).toEqual(stored);
  });

  it('delete, admin retry, retention and bulk delete read compact tasks; the integrity checker accepts them', async () => {
    const q = harness.queue(COMPACT);
    const admin = new QueueAdminRepository(harness.connections, q.repo);
    for (const id of ['d1', 'd2', 'd3', 'd4']) await completed(q, newTask({ id, type: 'job', priority: id === 'd4' ? 'low' : undefined }), 'ok');
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);

    expect(await admin.retryTask('d1')).toEqual({ retried: false, status: 'completed' });
    await q.repo.delete('d1');
    expect(await q.footprint('d1')).toEqual([]);

    await q.finishedAgo('d2', 60_000);
    expect((await q.repo.get('d2'))?.updatedAt).toBe(Number(await q.redis.zscore(q.keys.byStatus('completed'), 'd2')));
    expect(await q.repo.purgeExpired(30_000, 100)).toBe(1);
    expect(await q.footprint('d2')).toEqual([]);

    expect(await admin.deleteFinished('default', 'completed')).toBe(2);
    expect(await q.allKeys()).toEqual(expect.not.arrayContaining([expect.stringMatching(/^t:d[34]$/)]));
    expect(await q.footprint('d4')).toEqual([]);
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });
});
