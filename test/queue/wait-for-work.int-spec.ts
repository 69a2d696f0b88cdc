import { RedisConnections } from '../../src/queue/redis-connections';
import { QueueRepository } from '../../src/queue/queue.repository';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { newTask, QueueFixture, QueueHarness, silentLogger } from '../support/queue-harness';
import { uniquePrefix } from '../support/redis';
import { testConfig } from '../support/test-app';
import { delay } from '../support/wait';

/**
 * No speed limits: a wait that should be woken is given a timeout far longer than the test needs, so
 * "it returned before WAIT_MS" proves that something woke it, however slow the machine.
 */
const WAIT_MS = 20_000;
const TRIGGER_AFTER_MS = 300;

async function timed(run: () => Promise<void>): Promise<number> {
  const started = Date.now();
  await run();
  return Date.now() - started;
}

const never = () => new AbortController().signal;

describe('waitForWork (BZPOPMIN on the wake-up marker)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  let q: QueueFixture;
  beforeEach(async () => {
    q = harness.queue();
  });

  it('returns at once and consumes the marker when work was signalled before the wait', async () => {
    await q.repo.enqueue([newTask()]);
    expect(await q.markerSet()).toBe(true);

    expect(await timed(() => q.repo.waitForWork(WAIT_MS, never()))).toBeLessThan(WAIT_MS);
    expect(await q.markerSet()).toBe(false);
  });

  it.each<{ source: string; arrange: (q: QueueFixture) => Promise<() => Promise<unknown>> }>([
    { source: 'an enqueue', arrange: async (f) => () => f.repo.enqueue([newTask()]) },
    {
      source: 'a retry',
      arrange: async (f) => {
        const [t] = await f.leased(1);
        return () => f.repo.retry(t, 'boom', 1000);
      },
    },
    {
      source: 'a requeue',
      arrange: async (f) => {
        const [t] = await f.leased(1);
        return () => f.repo.requeue(t);
      },
    },
    {
      source: 'a lease recovery',
      arrange: async (f) => {
        const [t] = await f.leased(1);
        await f.expire(t.id);
        return () => f.repo.recoverExpired(10, 'lease expired: worker lost', [1000], MAX_STALLS);
      },
    },
  ])('returns promptly when $source happens during the wait', async ({ arrange }) => {
    const trigger = await arrange(q);
    await q.clearMarker();

    const waited = q.repo.waitForWork(WAIT_MS, never());
    const elapsed = await timed(async () => {
      await delay(TRIGGER_AFTER_MS);
      await trigger();
      await waited;
    });

    expect(elapsed).toBeGreaterThanOrEqual(TRIGGER_AFTER_MS - 50);
    expect(elapsed).toBeLessThan(WAIT_MS);
    // It woke because it took the marker, not for another reason.
    expect(await q.markerSet()).toBe(false);
  }, 30_000);

  it('returns after the timeout when nothing happens (not before; a hang fails the test timeout)', async () => {
    await q.clearMarker();
    const elapsed = await timed(() => q.repo.waitForWork(700, never()));
    expect(elapsed).toBeGreaterThanOrEqual(500);
  }, 15_000);

  it('returns at once, without consuming the marker, when the stop signal has already aborted', async () => {
    await q.repo.enqueue([newTask()]);
    const stop = new AbortController();
    stop.abort();

    expect(await timed(() => q.repo.waitForWork(WAIT_MS, stop.signal))).toBeLessThan(WAIT_MS);
    expect(await q.markerSet()).toBe(true);
  });

  it('returns promptly when the stop signal aborts during the wait, and the next wait still works', async () => {
    await q.clearMarker();
    const stop = new AbortController();
    const waited = q.repo.waitForWork(WAIT_MS, stop.signal);

    const elapsed = await timed(async () => {
      await delay(TRIGGER_AFTER_MS);
      stop.abort();
      await expect(waited).resolves.toBeUndefined();
    });
    expect(elapsed).toBeLessThan(WAIT_MS);

    // The interrupted connection was dropped; the next wait opens a new one and still wakes up.
    const next = q.repo.waitForWork(WAIT_MS, never());
    const again = await timed(async () => {
      await delay(TRIGGER_AFTER_MS);
      await q.repo.enqueue([newTask()]);
      await next;
    });
    expect(again).toBeLessThan(WAIT_MS);
  }, 60_000);

  it('accepts an unbounded timeout (empty queue) and blocks until stopped', async () => {
    await q.clearMarker();
    const stop = new AbortController();
    const waited = q.repo.waitForWork(Infinity, stop.signal);
    const elapsed = await timed(async () => {
      await delay(TRIGGER_AFTER_MS);
      stop.abort();
      await waited;
    });
    expect(elapsed).toBeGreaterThanOrEqual(TRIGGER_AFTER_MS - 50);
  }, 15_000);

  it('blocks on a brand-new connection instead of failing at once (first wait of a process)', async () => {
    const config = testConfig({ QUEUE_PREFIX: uniquePrefix('lua') });
    const fresh = new RedisConnections(config, silentLogger);
    try {
      await fresh.onModuleInit();
      const repo = new QueueRepository(fresh, config);
      const elapsed = await timed(() => repo.waitForWork(600, never()));
      expect(elapsed).toBeGreaterThanOrEqual(400);
    } finally {
      await fresh.onApplicationShutdown();
    }
  }, 15_000);
});
