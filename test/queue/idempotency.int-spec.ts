import { randomUUID } from 'node:crypto';
import { NewTask } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

/** Idempotency keys in enqueue.lua (QueueRepository.submit). */
describe('idempotency keys', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  const keyed = (key: string, hash: string, overrides: Partial<NewTask> = {}): NewTask =>
    newTask({ id: randomUUID(), type: 'job', idempotencyKey: key, requestHash: hash, ...overrides });

  async function taskCount(q: QueueFixture): Promise<number> {
    return (await q.allKeys()).filter((k) => /^t:[^:]+$/.test(k)).length;
  }

  it('the first request creates the task and remembers the key for IDEMPOTENCY_TTL_S', async () => {
    const q = harness.queue();
    const first = keyed('order-1', 'h1');

    const result = await q.repo.submit([first]);

    expect(result).toEqual({ createdAt: expect.any(Number), outcomes: [{ kind: 'created' }], rejected: false });
    expect(await q.redis.get(q.keys.idempotency('order-1'))).toBe(`${first.id}|h1`);
    const ttl = await q.redis.pttl(q.keys.idempotency('order-1'));
    expect(ttl).toBeGreaterThan(q.config.queue.idempotencyTtlS * 1000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(q.config.queue.idempotencyTtlS * 1000);
  });

  it('a repeat with the same request creates nothing and answers the original task, in whatever state it is', async () => {
    const q = harness.queue();
    const first = keyed('order-1', 'h1', { payload: 'original' });
    await q.repo.submit([first]);
    const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.complete(lease, 'done');

    const repeat = await q.repo.submit([keyed('order-1', 'h1')]);

    expect(repeat.rejected).toBe(false);
    expect(repeat.outcomes).toEqual([
      { kind: 'replayed', task: expect.objectContaining({ id: first.id, payload: 'original', status: 'completed', result: 'done' }) },
    ]);
    expect(await taskCount(q)).toBe(1);
  });

  it('a repeat with another request is a conflict: nothing of the call is stored', async () => {
    const q = harness.queue();
    const first = keyed('order-1', 'h1');
    await q.repo.submit([first]);
    const before = await q.dump();

    const result = await q.repo.submit([newTask({ id: 'other', type: 'job' }), keyed('order-1', 'h2')]);

    expect(result.rejected).toBe(true);
    expect(result.outcomes).toEqual([{ kind: 'created' }, { kind: 'conflict' }]);
    expect(await q.dump()).toEqual(before);
  });

  it('a repeat whose task was deleted is gone (with the same request) or a conflict (with another)', async () => {
    const q = harness.queue();
    const first = keyed('order-1', 'h1');
    await q.repo.submit([first]);
    await q.repo.delete(first.id);

    expect((await q.repo.submit([keyed('order-1', 'h1')])).outcomes).toEqual([{ kind: 'gone' }]);
    expect((await q.repo.submit([keyed('order-1', 'h2')])).outcomes).toEqual([{ kind: 'conflict' }]);
    expect(await taskCount(q)).toBe(0);
  });

  it('one key twice in one call: the second element is the first one\'s task (same request) or a conflict', async () => {
    const q = harness.queue();
    const a = keyed('k', 'h1');
    const same = await q.repo.submit([a, newTask({ id: 'plain', type: 'job' }), keyed('k', 'h1')]);
    expect(same).toEqual({
      createdAt: expect.any(Number),
      outcomes: [{ kind: 'created' }, { kind: 'created' }, { kind: 'same-as', index: 0 }],
      rejected: false,
    });
    expect(await taskCount(q)).toBe(2);

    const q2 = harness.queue();
    const other = await q2.repo.submit([keyed('k', 'h1'), keyed('k', 'h2')]);
    expect(other.rejected).toBe(true);
    expect(other.outcomes).toEqual([{ kind: 'created' }, { kind: 'conflict' }]);
    expect(await q2.allKeys()).toEqual([]);
  });

  it('a call of repeats and new tasks creates only the new ones; a call of repeats only creates nothing and wakes no worker', async () => {
    const q = harness.queue();
    const first = keyed('a', 'h');
    await q.repo.submit([first]);
    await q.clearMarker();

    const onlyRepeats = await q.repo.submit([keyed('a', 'h')]);
    expect(onlyRepeats.outcomes).toEqual([{ kind: 'replayed', task: expect.objectContaining({ id: first.id }) }]);
    expect(await q.markerSet()).toBe(false);

    const fresh = keyed('b', 'h');
    const mixed = await q.repo.submit([keyed('a', 'h'), fresh]);
    expect(mixed.outcomes.map((o) => o.kind)).toEqual(['replayed', 'created']);
    expect(await q.hash(fresh.id)).toMatchObject({ status: 'pending', created_at: String(mixed.createdAt) });
    expect(await q.markerSet()).toBe(true);
    expect(await taskCount(q)).toBe(2);
  });

  it('50 concurrent submits of one key create exactly one task; every other answers that task', async () => {
    const q = harness.queue();
    const results = await Promise.all(Array.from({ length: 50 }, () => q.repo.submit([keyed('same', 'h')])));

    const created = results.filter((r) => r.outcomes[0].kind === 'created');
    expect(created).toHaveLength(1);
    const id = (await q.redis.get(q.keys.idempotency('same')))?.split('|')[0];
    const replayedIds = results.flatMap((r) => (r.outcomes[0].kind === 'replayed' ? [r.outcomes[0].task.id] : []));
    expect(replayedIds).toEqual(Array(49).fill(id));
    expect(await taskCount(q)).toBe(1);
  });

  it('once the key expired, the same request creates a new task', async () => {
    const q = harness.queue();
    const first = keyed('k', 'h');
    await q.repo.submit([first]);
    await q.redis.pexpire(q.keys.idempotency('k'), 1);
    await new Promise((r) => setTimeout(r, 20));

    const again = keyed('k', 'h');
    expect((await q.repo.submit([again])).outcomes).toEqual([{ kind: 'created' }]);
    expect(await q.redis.get(q.keys.idempotency('k'))).toBe(`${again.id}|h`);
    expect(await taskCount(q)).toBe(2);
  });

  it('keys may hold any printable ASCII, braces and spaces included, and stay in the queue\'s hash tag', async () => {
    const q = harness.queue();
    const key = ' {x} |~ "quoted" \\ ';
    const first = keyed(key, 'h');
    await q.repo.submit([first]);

    expect(await q.redis.get(`${q.keys.base}idem:${key}`)).toBe(`${first.id}|h`);
    expect((await q.repo.submit([keyed(key, 'h')])).outcomes[0]).toMatchObject({ kind: 'replayed' });
  });
});
