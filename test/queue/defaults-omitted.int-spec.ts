import { QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { NewTask } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

const SLIM = ['created_at', 'max_retry', 'payload', 'status', 'type'];
const WITH_DEFAULTS = ['attempts', 'created_at', 'max_retry', 'payload', 'retries', 'status', 'type', 'updated_at'];

/**
 * A task stored without the fields that only hold their defaults at creation: `retries` and `attempts`
 * (0) and `updated_at` (its created_at). Leaving them out takes 64 of a queued task's 248 hash bytes and
 * about a sixth of the HSET's Redis time (docs/performance.md). Every reader since a06bb81 takes a
 * missing field as its default: no 500 for a missing updated_at, no recoverer stopped by a missing
 * retries count. New tasks are written so unless STORE_TASK_DEFAULTS=true (for a rolling update from a
 * version before a06bb81).
 */
describe('a task stored without its default fields (retries, attempts, updated_at)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  async function queuedWithoutDefaults(q: QueueFixture, id: string, maxRetry = 3): Promise<void> {
    await q.repo.enqueue([newTask({ id, type: 'job', maxRetry })]);
    expect(Object.keys(await q.rawHash(id)).sort()).toEqual(SLIM);
  }

  // The three write paths of enqueue.lua: one plain task, several plain tasks, tasks with options.
  const paths: [string, () => NewTask[]][] = [
    ['one plain task', () => [newTask({ id: 'a', type: 'job' })]],
    ['plain tasks in one call', () => [newTask({ id: 'a', type: 'job' }), newTask({ id: 'b', type: 'job' })]],
    ['tasks with options', () => [newTask({ id: 'a', type: 'job', priority: 'high' }), newTask({ id: 'b', type: 'job', timeoutMs: 5000 })]],
  ];

  it.each(paths)('%s: stored without them by default, with them under STORE_TASK_DEFAULTS=true', async (_, tasks) => {
    const slim = harness.queue();
    const full = harness.queue({ STORE_TASK_DEFAULTS: 'true' });
    const list = tasks();
    await slim.repo.enqueue(list);
    await full.repo.enqueue(list);
    for (const t of list) {
      const slimHash = await slim.rawHash(t.id);
      const fullHash = await full.rawHash(t.id);
      const extra = Object.keys(slimHash).filter((k) => !SLIM.includes(k));
      expect(Object.keys(slimHash).sort()).toEqual([...SLIM, ...extra].sort());
      expect(Object.keys(fullHash).sort()).toEqual([...WITH_DEFAULTS, ...extra].sort());
      expect(fullHash).toMatchObject({ retries: '0', attempts: '0', updated_at: fullHash.created_at });
      const [a, b] = [await slim.repo.get(t.id), await full.repo.get(t.id)];
      expect(a).toEqual({ ...b, createdAt: a?.createdAt, updatedAt: a?.createdAt });
    }
  });

  it('slim and full tasks are leased, run and complete together', async () => {
    const q = harness.queue();
    const older = harness.queue({ STORE_TASK_DEFAULTS: 'true', QUEUE_PREFIX: q.prefix });
    await q.repo.enqueue([newTask({ id: 'slim', type: 'job' })]);
    await older.repo.enqueue([newTask({ id: 'full', type: 'job' })]);
    expect(Object.keys(await q.rawHash('full')).sort()).toEqual(WITH_DEFAULTS);
    const { tasks } = await q.repo.fetch(10, LEASE_MS);
    expect(tasks.map((l) => [l.id, l.retries, l.token]).sort()).toEqual([
      ['full', 0, 1],
      ['slim', 0, 1],
    ]);
    for (const lease of tasks) await q.repo.complete(lease, 'ok');
    for (const id of ['slim', 'full']) expect(await q.repo.get(id)).toMatchObject({ status: 'completed', attempts: 1, retries: 0 });
    expect((await new QueueIntegrityChecker(harness.connections, q.repo).check()).violations).toEqual([]);
  });

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
    await harness.queue({ STORE_TASK_DEFAULTS: 'true', QUEUE_PREFIX: q.prefix }).repo.enqueue([newTask({ id: 'full', type: 'job' })]);
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
