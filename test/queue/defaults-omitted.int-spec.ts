import { QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

/**
 * A task stored without the fields that only hold their defaults at creation: `retries` and `attempts`
 * (0) and `updated_at` (its created_at). Leaving them out takes 64 of a queued task's 248 hash bytes and
 * about a sixth of the HSET's Redis time (docs/performance.md); a later version is to write tasks that
 * way. Every reader of this version takes a missing field as its default, so processes of this version
 * still serve such tasks during that rolling update: no 500 for a missing updated_at, no recoverer
 * stopped by a missing retries count.
 */
describe('a task stored without its default fields (retries, attempts, updated_at)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  async function queuedWithoutDefaults(q: QueueFixture, id: string, maxRetry = 3): Promise<void> {
    await q.repo.enqueue([newTask({ id, type: 'job', maxRetry })]);
    await q.redis.hdel(q.keys.task(id), 'retries', 'attempts', 'updated_at');
    expect(Object.keys(await q.rawHash(id)).sort()).toEqual(['created_at', 'max_retry', 'payload', 'status', 'type']);
  }

  it('reads as pending with retries 0, attempts 0 and updated_at = created_at, and is listed', async () => {
    const q = harness.queue();
    await queuedWithoutDefaults(q, 'slim');
    const t = await q.repo.get('slim');
    expect(t).toMatchObject({ status: 'pending', retries: 0, attempts: 0, maxRetry: 3 });
    expect(t?.updatedAt).toBe(t?.createdAt);
    expect(Number.isFinite(t?.createdAt)).toBe(true);
    const { tasks } = await q.repo.list({}, 10);
    expect(tasks.map((x) => [x.id, x.updatedAt === x.createdAt])).toEqual([['slim', true]]);
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });

  it('is leased with retries 0 and token 1, runs, and completes like any task', async () => {
    const q = harness.queue();
    await queuedWithoutDefaults(q, 'slim');
    const { tasks } = await q.repo.fetch(10, LEASE_MS);
    expect(tasks.map((l) => [l.id, l.retries, l.maxRetry, l.token])).toEqual([['slim', 0, 3, 1]]);
    expect(await q.repo.get('slim')).toMatchObject({ status: 'processing', attempts: 1, retries: 0 });
    await q.repo.start(tasks[0]);
    await q.repo.complete(tasks[0], 'done');
    expect(await q.repo.get('slim')).toMatchObject({ status: 'completed', result: 'done', attempts: 1, retries: 0 });
    expect(await q.footprint('slim')).toEqual(q.expectedFootprint('slim', 'completed'));
  });

  it('is retried by the recoverer when its lease expires after it started (retries 0 -> 1), and the others of the call too', async () => {
    const q = harness.queue();
    await queuedWithoutDefaults(q, 'slim');
    await q.repo.enqueue([newTask({ id: 'full', type: 'job' })]);
    const { tasks } = await q.repo.fetch(10, LEASE_MS);
    for (const lease of tasks) await q.repo.start(lease);
    await q.expire('slim', 'full');
    const rec = await q.repo.recoverDue(100, 'lost', [0], MAX_STALLS);
    expect(rec.outcomes.map((o) => [o.id, o.outcome, o.retries]).sort()).toEqual([
      ['full', 'retry', 1],
      ['slim', 'retry', 1],
    ]);
    expect(await q.repo.get('slim')).toMatchObject({ status: 'pending', retries: 1, attempts: 1 });
  });

  it('with no retries left, the recoverer fails it with its retry count (0)', async () => {
    const q = harness.queue();
    await queuedWithoutDefaults(q, 'slim', 0);
    const { tasks } = await q.repo.fetch(10, LEASE_MS);
    await q.repo.start(tasks[0]);
    await q.expire('slim');
    const rec = await q.repo.recoverDue(100, 'lost', [0], MAX_STALLS);
    expect(rec.outcomes.map((o) => [o.id, o.outcome, o.retries])).toEqual([['slim', 'failed', 0]]);
    expect(await q.repo.get('slim')).toMatchObject({ status: 'failed', retries: 0, attempts: 1 });
  });
});
