import { MAX_STALLS } from '../../src/queue/task-limits';
import { BackoffPolicy } from '../../src/queue/task-options';
import { LeasedTask } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

const ERROR = 'lease expired: worker lost';
/** The recoverer's default delays (the retry strategy's), which a task's own policy replaces. */
const DEFAULT_DELAYS = [1000, 2000, 4000];

/** What fetch adds to every lease for the metrics. */
const METRIC_TIMES = { dueForMs: expect.any(Number), ageMs: expect.any(Number), leasedAt: expect.any(Number) };

/** timeout_ms and backoff: stored by enqueue.lua, handed to the worker by fetch.lua, honoured by recover.lua. */
describe('per-task timeout and backoff', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('are stored only when given and come with the lease', async () => {
    const q = harness.queue();
    const backoff: BackoffPolicy = { type: 'fixed', delayMs: 250, maxDelayMs: 1000, jitter: true };
    await q.repo.enqueue([newTask({ id: 'own', type: 'job', timeoutMs: 1234, backoff }), newTask({ id: 'plain', type: 'job' })]);

    // One field for both, so fetch reads one field more per task, not two.
    expect(await q.hash('own')).toMatchObject({ opts: '1234|f:250:1000:1' });
    expect((await q.hash('plain')).opts).toBeUndefined();
    expect(await q.repo.get('own')).toMatchObject({ timeoutMs: 1234, backoff });

    const { tasks } = await q.repo.fetch(10, LEASE_MS);
    const byId = new Map(tasks.map((t) => [t.id, t]));
    expect(byId.get('own')).toEqual({ id: 'own', token: 1, type: 'job', payload: expect.any(String), retries: 0, maxRetry: 3, timeoutMs: 1234, backoff, ...METRIC_TIMES });
    // A plain lease carries no option fields (only the metric times every lease has).
    expect(Object.keys(byId.get('plain') as LeasedTask).sort()).toEqual(['ageMs', 'dueForMs', 'id', 'leasedAt', 'maxRetry', 'payload', 'retries', 'token', 'type']);
  });

  /** Task `id` with `backoff`, after `retries` retries, started, then its lease expired. */
  async function expiredAfterRetries(q: QueueFixture, id: string, retries: number, backoff: BackoffPolicy): Promise<void> {
    await q.leasedAfterRetries(id, retries, { maxRetry: 10, backoff });
    await q.expire(id);
  }

  it.each<[string, BackoffPolicy, number, number]>([
    ['fixed', { type: 'fixed', delayMs: 777, maxDelayMs: 10_000, jitter: false }, 0, 777],
    ['fixed after 3 retries', { type: 'fixed', delayMs: 777, maxDelayMs: 10_000, jitter: false }, 3, 777],
    ['exponential after 0 retries', { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: false }, 0, 100],
    ['exponential after 2 retries', { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: false }, 2, 400],
    ['exponential, capped', { type: 'exponential', delayMs: 100, maxDelayMs: 300, jitter: false }, 2, 300],
    ['fixed above its cap', { type: 'fixed', delayMs: 500, maxDelayMs: 200, jitter: false }, 0, 200],
    ['jitter is not applied by the recoverer', { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: true }, 1, 200],
  ])('the recoverer retries a task with its own policy (%s): run_at = updated_at + %#', async (_what, backoff, retries, delay) => {
    const q = harness.queue();
    await expiredAfterRetries(q, 'a', retries, backoff);

    const outcomes = await q.repo.recoverExpired(10, ERROR, DEFAULT_DELAYS, MAX_STALLS);

    expect(outcomes).toEqual([{ id: 'a', outcome: 'retry', retries: retries + 1 }]);
    const h = await q.hash('a');
    expect(Number(h.run_at) - Number(h.updated_at)).toBe(delay);
    expect(await q.score(q.keys.queue, 'a')).toBe(Number(h.run_at));
  });

  it.each([
    ['without options', {}],
    ['with only its own timeout', { timeoutMs: 5000 }],
  ])('the recoverer keeps the default delays for a task without a policy (%s)', async (_what, options) => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'a', type: 'job', ...options })]);
    const [lease] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(lease);
    await q.expire('a');

    await q.repo.recoverExpired(10, ERROR, DEFAULT_DELAYS, MAX_STALLS);

    const h = await q.hash('a');
    expect(Number(h.run_at) - Number(h.updated_at)).toBe(1000);
  });
});
