import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Attempt {
  attempt: number;
  worker_id: string | null;
  started_at: string | null;
  ended_at: string;
  outcome: string;
  error?: string;
}

/** `history` of GET /tasks/{id}: one entry per ended attempt, with its worker, times and outcome. */
describe('attempt history', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('history');
  let api: TestApp;
  let worker: TestApp | undefined;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    api = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await stopService(s);
    await worker?.close();
    worker = undefined;
  });
  afterAll(async () => {
    await api.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const get = async (id: string) => (await request(api.http).get(`/tasks/${id}`).expect(200)).body;
  /** The task once finished, through ?wait (looping in case recovery takes longer than one wait). */
  const finished = (id: string) =>
    waitFor(
      async () => {
        const res = await request(api.http).get(`/tasks/${id}?wait=10`).expect(200);
        return res.headers['x-task-wait'] === 'done' ? res.body : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 0, what: `task ${id} to finish` },
    );

  it('after a SIGKILL: a lost attempt on the killed worker, then completed on the next one', async () => {
    // Lease short enough that recovery comes within seconds (the command timeout must stay below a third).
    const env = {
      QUEUE_PREFIX: prefix,
      APP_ROLE: 'worker',
      WORKER_COUNT: '1',
      WORKER_PREFETCH: '0',
      TASK_LEASE_MS: '3000',
      REDIS_COMMAND_TIMEOUT_MS: '500',
      SLOW_TASK_MS: '1500',
      RETRY_BASE_DELAY_MS: '100',
      LOG_LEVEL: 'warn',
    };
    const doomed = await startService(env);
    services.push(doomed);
    const { body } = await request(api.http).post('/tasks').send({ type: 'slow', max_retry: 2 }).expect(201);
    await waitFor(async () => ((await get(body.id)).started_at ? true : undefined), { what: 'the handler to start' });
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const rescuer = await startService(env);
    services.push(rescuer);

    const done = await finished(body.id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, retries: 1 });
    const history = done.history as Attempt[];
    expect(history).toEqual([
      {
        attempt: 1,
        worker_id: expect.stringMatching(new RegExp(`-${doomed.child.pid}/1$`)),
        started_at: expect.stringMatching(ISO_UTC),
        ended_at: expect.stringMatching(ISO_UTC),
        outcome: 'lost',
        error: 'lease expired: worker lost',
      },
      {
        attempt: 2,
        worker_id: expect.stringMatching(new RegExp(`-${rescuer.child.pid}/1$`)),
        started_at: done.started_at,
        ended_at: done.completed_at,
        outcome: 'completed',
      },
    ]);
    // The lost attempt ended when its lease expired: after it started, before the next one started.
    expect(Date.parse(history[0].ended_at)).toBeGreaterThan(Date.parse(history[0].started_at as string));
    expect(Date.parse(history[1].started_at as string)).toBeGreaterThanOrEqual(Date.parse(history[0].ended_at));
  }, 90_000);

  it('retries then failure: retry, retry, failed, each with its error; the listing carries no history', async () => {
    worker = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'worker', FLAKY_FAILURE_RATE: '1', RETRY_BASE_DELAY_MS: '50' });
    const { body } = await request(api.http).post('/tasks').send({ type: 'flaky', max_retry: 2 }).expect(201);
    const done = await finished(body.id);
    expect(done.status).toBe('failed');
    expect((done.history as Attempt[]).map(({ attempt, outcome, error }) => ({ attempt, outcome, error }))).toEqual([
      { attempt: 1, outcome: 'retry', error: 'flaky task failed on attempt 1 (simulated failure)' },
      { attempt: 2, outcome: 'retry', error: 'flaky task failed on attempt 2 (simulated failure)' },
      { attempt: 3, outcome: 'failed', error: 'flaky task failed on attempt 3 (simulated failure)' },
    ]);
    const listed = (await request(api.http).get('/tasks?limit=1000').expect(200)).body as Array<Record<string, unknown>>;
    expect(listed.find((t) => t.id === body.id)).toBeDefined();
    for (const t of listed) expect(t).not.toHaveProperty('history');
  });

  it('a handler that runs past TASK_TIMEOUT_MS: timeout', async () => {
    worker = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'worker', TASK_TIMEOUT_MS: '200', SLOW_TASK_MS: '60000' });
    const { body } = await request(api.http).post('/tasks').send({ type: 'slow', max_retry: 0 }).expect(201);
    const done = await finished(body.id);
    expect(done.status).toBe('failed');
    expect(done.history).toEqual([expect.objectContaining({ attempt: 1, outcome: 'timeout', error: 'timeout after 200 ms' })]);
  });
});
