import { DuplicateTaskIdError } from '../../src/queue/queue-errors';
import { newTask, QueueHarness } from '../support/queue-harness';

/** enqueue.lua against a real Redis. */
describe('enqueue.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it.each([
    { what: 'JSON payload', payload: '{"to":"a@example.com","n":1}', maxRetry: 3 },
    { what: 'empty payload', payload: '', maxRetry: 0 },
    { what: 'unicode and newlines', payload: '{"s":"h\u00e9llo \u2603\\n\u{1F600}"}\n', maxRetry: 25 },
  ])('stores every field of a new task ($what)', async ({ payload, maxRetry }) => {
    const q = harness.queue();
    const before = await q.redisNow();
    const createdAt = await q.repo.enqueue([newTask({ id: 'a', type: 'report', payload, maxRetry })]);

    // Stamped by Redis' clock, and the caller learns the stamp.
    expect(createdAt).toBeGreaterThanOrEqual(before);
    expect(createdAt).toBeLessThanOrEqual(await q.redisNow());
    // No retries, attempts or updated_at: they hold their defaults (0, 0, created_at) until they change
    // (STORE_TASK_DEFAULTS; test defaults-omitted).
    expect(await q.hash('a')).toEqual({
      type: 'report',
      payload,
      status: 'pending',
      max_retry: String(maxRetry),
      created_at: String(createdAt),
    });
    expect(await q.repo.get('a')).toEqual({
      id: 'a',
      queue: 'default',
      type: 'report',
      payload,
      status: 'pending',
      retries: 0,
      maxRetry,
      attempts: 0,
      stalls: 0,
      createdAt,
      updatedAt: createdAt,
      history: [],
    });
  });

  it('adds the task to the queue zset at score now (its listing: no pending index entry, none per type), and sets the marker', async () => {
    const q = harness.queue();
    const createdAt = await q.repo.enqueue([newTask({ id: 'a', type: 'email' })]);

    expect(await q.score(q.keys.queue, 'a')).toBe(createdAt);
    expect(await q.score(q.keys.byStatus('pending'), 'a')).toBeNull();
    expect(await q.footprint('a')).toEqual(q.expectedFootprint('a', 'pending'));
    expect(await q.redis.zrange(q.keys.marker, 0, -1)).toEqual(['0']);
    expect((await q.allKeys()).sort()).toEqual(['marker', 'queue', 't:a']);
  });

  it('stores a batch of several tasks of several types in one call, all with one creation time', async () => {
    const q = harness.queue();
    const batch = [
      newTask({ id: 'b1', type: 'email' }),
      newTask({ id: 'b2', type: 'report' }),
      newTask({ id: 'b3', type: 'email' }),
    ];
    const createdAt = await q.repo.enqueue(batch);

    for (const t of batch) {
      const h = await q.hash(t.id);
      expect(h).toMatchObject({ type: t.type, payload: t.payload, status: 'pending', max_retry: String(t.maxRetry) });
      expect(h.created_at).toBe(String(createdAt));
      expect(await q.footprint(t.id)).toEqual(q.expectedFootprint(t.id, 'pending'));
    }
    expect(await q.redis.zrange(q.keys.queue, 0, -1)).toEqual(['b1', 'b2', 'b3']);
    expect((await q.allKeys()).sort()).toEqual(['marker', 'queue', 't:b1', 't:b2', 't:b3']);
  });

  it.each([
    { what: 'an id that exists already', existing: ['dup'], batch: ['n1', 'dup', 'n2'] },
    // A call of one plain task takes a path of its own in enqueue.lua.
    { what: 'a lone task whose id exists already', existing: ['dup'], batch: ['dup'] },
    { what: 'an existing id at the end of the batch', existing: ['dup'], batch: ['n1', 'n2', 'dup'] },
    { what: 'the same id twice in one batch', existing: [], batch: ['n1', 'dup', 'n2', 'dup'] },
    // enqueue.lua checks the ids of a call 1000 at a time: one past the first thousand.
    {
      what: 'an existing id past the first 1000 of the batch',
      existing: ['dup'],
      batch: [...Array.from({ length: 1100 }, (_, i) => `n${i}`), 'dup', 'n-last'],
    },
  ])('rejects a batch with $what and stores nothing of it', async ({ existing, batch }) => {
    const q = harness.queue();
    if (existing.length > 0) {
      await q.repo.enqueue(existing.map((id) => newTask({ id, type: 'old', payload: 'original' })));
    }
    await q.clearMarker();
    const keysBefore = await q.allKeys();
    const hashesBefore = await Promise.all(existing.map((id) => q.hash(id)));

    await expect(
      q.repo.enqueue(batch.map((id) => newTask({ id, type: 'new', payload: 'replacement' }))),
    ).rejects.toBeInstanceOf(DuplicateTaskIdError);

    expect(await q.allKeys()).toEqual(keysBefore);
    expect(await Promise.all(existing.map((id) => q.hash(id)))).toEqual(hashesBefore);
    for (const id of batch.filter((i) => !existing.includes(i))) {
      expect(await q.footprint(id)).toEqual([]);
    }
    expect(await q.markerSet()).toBe(false);
  });

  it('accepts the same id again once the first task is deleted', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'again', type: 'a' })]);
    await q.repo.delete('again');
    await q.repo.enqueue([newTask({ id: 'again', type: 'b' })]);
    expect(await q.footprint('again')).toEqual(q.expectedFootprint('again', 'pending'));
  });
});
