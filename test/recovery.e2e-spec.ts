import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { delay, waitFor } from './support/wait';

/**
 * Crash recovery with real processes: a worker process is killed (SIGKILL) or frozen (SIGSTOP) in the
 * middle of a task; another pool recovers the expired lease and completes the task. The frozen
 * worker's late write is rejected by the fencing token.
 */
describe('crash recovery and fencing', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('recovery');
  const LEASE_MS = 1500;
  const workerEnv = {
    QUEUE_PREFIX: prefix,
    APP_ROLE: 'worker',
    WORKER_COUNT: '1',
    TASK_LEASE_MS: String(LEASE_MS),
    SLOW_TASK_MS: '2500',
    RETRY_BASE_DELAY_MS: '100',
  };
  let api: TestApp;
  let rescuer: TestApp | undefined;
  let doomed: ServiceProcess | undefined;

  beforeAll(async () => {
    api = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
  });
  afterEach(async () => {
    await stopService(doomed);
    await rescuer?.close();
    doomed = rescuer = undefined;
  });
  afterAll(async () => {
    await api.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const get = async (id: string) => (await request(api.http).get(`/tasks/${id}`)).body;

  /**
   * Submits a slow task to a doomed worker process, SIGSTOPs that process as soon as the handler has
   * started, then boots the rescuing pool. Frozen before the rescuer boots: a boot that took longer
   * than the 2.5 s handler on a busy machine let the doomed worker complete the task first (attempts 1,
   * seen in a CI run of the SIGSTOP test; the SIGKILL test, which killed only after the boot, had the
   * same race). Frozen, it holds the lease without renewing it, like a dead one.
   */
  async function submitToFrozenWorker(): Promise<{ id: string; rescuerReadyAt: number }> {
    doomed = await startService(workerEnv);
    const { body } = await request(api.http).post('/tasks').send({ type: 'slow', max_retry: 2 }).expect(201);
    // Its handler has started (started_at is written when it does; a lease alone is not a start).
    await waitFor(async () => ((await get(body.id)).started_at ? true : undefined), { what: 'the handler to start' });
    doomed.child.kill('SIGSTOP');
    // The rescuing pool starts only now, so the doomed process is the one holding the lease.
    rescuer = await createTestApp({ ...workerEnv, APP_ROLE: 'all' });
    // The worker was frozen before this: its lease stopped being renewed no later than now.
    return { id: body.id, rescuerReadyAt: Date.now() };
  }

  it('a task whose worker is SIGKILLed completes elsewhere, the crash counted as a failed attempt', async () => {
    const { id, rescuerReadyAt } = await submitToFrozenWorker();
    // A stopped process dies of SIGKILL like a running one.
    doomed!.child.kill('SIGKILL');
    await doomed!.exited;

    const restarted = await waitFor(async () => {
      const t = await get(id);
      return t.attempts === 2 ? Date.now() : undefined;
    }, { timeoutMs: LEASE_MS + 5000, intervalMs: 20, what: 'the task to run again' });
    const done = await waitFor(async () => {
      const t = await get(id);
      return t.status === 'completed' ? t : undefined;
    }, { timeoutMs: 10_000, what: 'completion elsewhere' });

    expect(done).toMatchObject({ status: 'completed', retries: 1, attempts: 2, result: 'completed after 2.5 seconds' });
    expect(done.error).toBe('lease expired: worker lost');
    // Recovery is bounded by the lease plus one recoverer tick and the retry backoff, counted from when
    // the rescuer was up (the worker had stopped renewing its lease before it booted).
    expect(restarted - rescuerReadyAt).toBeLessThan(LEASE_MS + 3000);
  }, 40_000);

  it('a frozen worker (SIGSTOP past its lease) cannot overwrite the task when it wakes up', async () => {
    const { id } = await submitToFrozenWorker();

    const done = await waitFor(async () => {
      const t = await get(id);
      return t.status === 'completed' ? t : undefined;
    }, { timeoutMs: 15_000, what: 'completion by the rescuer' });
    expect(done).toMatchObject({ attempts: 2, retries: 1, error: 'lease expired: worker lost' });

    doomed!.child.kill('SIGCONT');
    // Give the woken worker time to finish its handler and try to write its outcome.
    await waitFor(() => (/task outcome (discarded|rejected)/.test(doomed!.output()) ? true : undefined), {
      timeoutMs: 8000,
      what: 'the stale worker to give up its outcome',
    });
    await delay(200);
    const after = await get(id);
    expect(after).toEqual(done);
  }, 40_000);
});
