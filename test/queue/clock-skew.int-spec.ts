import { BackoffRetryStrategy } from '../../src/queue/retry/backoff-retry.strategy';
import { MaintenanceService } from '../../src/worker/maintenance.service';
import { newTask, QueueFixture, QueueHarness, silentLogger } from '../support/queue-harness';
import { testConfig } from '../support/test-app';
import { delay } from '../support/wait';

const HOUR = 3_600_000;
const LEASE_MS = 2000;

/** A recoverer / retention process of the fleet, configured like the service. */
function maintenance(q: QueueFixture, env: Record<string, string> = {}): MaintenanceService {
  const config = testConfig({ QUEUE_PREFIX: q.prefix, ...env });
  return new MaintenanceService(q.repo, new BackoffRetryStrategy(1000, 60_000), config, silentLogger);
}

/**
 * Every process of the fleet shares one clock, Redis' own (TIME inside the scripts): a process whose
 * clock is wrong changes no lease deadline, no recovery decision, no retention cutoff, no timestamp.
 * "This process's clock is off" is simulated for real: Date.now itself is skewed while the process
 * does its part.
 */
describe('clock skew between processes', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());
  afterEach(() => jest.restoreAllMocks());

  const realNow = Date.now.bind(Date);

  /** Runs `work` as a process whose clock is `skewMs` off. */
  async function withClockOff<T>(skewMs: number, work: () => Promise<T>): Promise<T> {
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
    try {
      return await work();
    } finally {
      spy.mockRestore();
    }
  }

  async function untilRedisTime(q: QueueFixture, at: number): Promise<void> {
    while ((await q.redisNow()) < at) await delay(20);
  }

  it('a recoverer 700 ms ahead does not take a live 2000 ms lease of a worker 700 ms behind', async () => {
    const q = harness.queue();
    await q.repo.enqueue([newTask({ id: 'live' })]);
    const leasedFrom = await q.redisNow();
    const [lease] = await withClockOff(-700, async () => (await q.repo.fetch(1, LEASE_MS)).tasks);
    expect(lease.id).toBe('live');
    await q.repo.start(lease);

    // 1500 ms into the lease by Redis' clock: 2200 ms by the recoverer's, 800 ms by the worker's.
    await untilRedisTime(q, leasedFrom + 1500);
    await withClockOff(700, () => maintenance(q).recoverExpiredLeases());

    expect(await q.hash('live')).toMatchObject({ status: 'processing', attempts: '1' });
    expect((await q.hash('live')).retries).toBeUndefined(); // no retry spent
    expect(await q.repo.heartbeat([lease], LEASE_MS)).toEqual([]);

    // And a lease that has really run out is recovered by the same skewed recoverer.
    const deadline = Number(await q.score(q.keys.active, 'live'));
    await untilRedisTime(q, deadline + 1);
    await withClockOff(700, () => maintenance(q).recoverExpiredLeases());
    expect(await q.hash('live')).toMatchObject({ status: 'pending', retries: '1', error: 'lease expired: worker lost' });
  }, 20_000);

  it('timestamps, backoff and retention follow Redis even when the caller is hours off', async () => {
    const q = harness.queue();
    const before = await q.redisNow();
    const createdAt = await withClockOff(-3 * HOUR, async () => {
      const at = await q.repo.enqueue([newTask({ id: 'a' }), newTask({ id: 'b' })]);
      const [a, b] = (await q.repo.fetch(2, LEASE_MS)).tasks;
      await q.repo.settle([
        { lease: a, mode: 'start', text: '' },
        { lease: b, mode: 'start', text: '' },
      ]);
      await q.repo.complete(a, 'ok');
      await q.repo.retry(b, 'boom', 5000);
      return at;
    });
    const after = await q.redisNow();

    const ha = await q.hash('a');
    expect(ha.created_at).toBe(String(createdAt));
    for (const field of ['created_at', 'updated_at', 'started_at']) {
      expect(Number(ha[field])).toBeGreaterThanOrEqual(before);
      expect(Number(ha[field])).toBeLessThanOrEqual(after);
    }
    const hb = await q.hash('b');
    expect(Number(hb.updated_at)).toBeGreaterThanOrEqual(before);
    expect(Number(hb.updated_at)).toBeLessThanOrEqual(after);
    expect(Number(hb.run_at) - Number(hb.updated_at)).toBe(5000);
    expect(await q.score(q.keys.queue, 'b')).toBe(Number(hb.run_at));

    // A retention process 3 hours ahead, with 1 hour of retention, keeps a task finished just now.
    await withClockOff(3 * HOUR, () => maintenance(q, { TASK_RETENTION_S: '3600' }).purgeExpiredTasks());
    expect((await q.hash('a')).status).toBe('completed');
  });
});
