import { expandTaskHash } from '../src/queue/compact-task';
import { withTaskDefaults } from './support/task-defaults';
import request from 'supertest';
import { HealthController } from '../src/health/health.controller';
import { ProcessState } from '../src/lifecycle/process-state';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { startService, stopService, ServiceProcess } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

describe('graceful shutdown', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('shutdown');
  let service: ServiceProcess | undefined;
  /** Apps a test created; closed after it even when an assertion failed midway (close is idempotent). */
  const apps: TestApp[] = [];
  const app = async (env: Record<string, string>) => {
    const t = await createTestApp(env);
    apps.push(t);
    return t;
  };

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    await stopService(service);
  });
  afterAll(async () => {
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  // The task's fields, a completed task's unpacked from its compact form.
  const hash = async (id: string, queuePrefix = prefix) => withTaskDefaults(expandTaskHash(await redis.hgetall(`${queuePrefix}:{default}:t:${id}`)));

  async function submitAndWaitProcessing(t: TestApp, type = 'slow'): Promise<string> {
    const { body } = await request(t.http).post('/tasks').send({ type }).expect(201);
    await waitFor(async () => ((await hash(body.id)).status === 'processing' ? true : undefined), { what: 'processing' });
    return body.id;
  }

  it('a task in flight finishes and its result is saved before the app closes; readiness is 503 meanwhile', async () => {
    const t = await app({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', SLOW_TASK_MS: '1500' });
    const id = await submitAndWaitProcessing(t);
    const closing = t.close();
    // Readiness turns first, while the task still runs (the order is the assertion; the wait only stops a hang).
    await waitFor(() => (t.app.get(ProcessState).shuttingDown ? true : undefined), { intervalMs: 5, what: 'shutdown to begin' });
    await expect(t.app.get(HealthController).ready()).rejects.toMatchObject({ status: 503 });
    expect((await hash(id)).status).toBe('processing');
    await closing;
    expect(await hash(id)).toMatchObject({ status: 'completed', result: 'completed after 1.5 seconds', retries: '0' });
  }, 20_000);

  it('past SHUTDOWN_TIMEOUT_MS a running task is aborted and put back to pending without spending a retry', async () => {
    const t = await app({ QUEUE_PREFIX: prefix, WORKER_COUNT: '1', SLOW_TASK_MS: '30000', SHUTDOWN_TIMEOUT_MS: '300' });
    const id = await submitAndWaitProcessing(t);
    // close() does not wait for the 30 s task: it is aborted and handed back, so it is pending, not completed.
    await t.close();
    const h = await hash(id);
    expect(h).toMatchObject({ status: 'pending', retries: '0', attempts: '1' });
    expect(h.run_at).toBeUndefined();
    // Ready at once: its queue score is in the past, so the next worker takes it immediately.
    expect(Number(await redis.zscore(`${prefix}:{default}:queue`, id))).toBeLessThanOrEqual(Date.now());
    expect(await redis.zscore(`${prefix}:{default}:active`, id)).toBeNull();

    // And it does run to completion on the next pool.
    const next = await app({ QUEUE_PREFIX: prefix, WORKER_COUNT: '1', SLOW_TASK_MS: '100' });
    await waitFor(async () => ((await hash(id)).status === 'completed' ? true : undefined), { what: 'completion after restart' });
    expect(await hash(id)).toMatchObject({ retries: '0', attempts: '2' });
    await next.close();
  }, 20_000);

  it('prefetched tasks are leased ahead, kept alive, and handed back untouched on shutdown', async () => {
    // Before any task has finished, the prefetch buffer holds one task per slot: 2 run, 2 wait. The
    // running ones take 3 s, so they are still running at close() even when a busy machine delays the
    // steps before it by more than a second (at 1.5 s, a delay of 0.2 s could let them finish first,
    // and the buffered ones would then run instead of going back).
    const t = await app({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', SLOW_TASK_MS: '3000', TASK_LEASE_MS: '1000' });
    const ids = (await request(t.http).post('/tasks/batch').send(Array.from({ length: 4 }, () => ({ type: 'slow' }))).expect(201)).body.map(
      (x: { id: string }) => x.id,
    ) as string[];
    await waitFor(async () => ((await redis.zcard(`${prefix}:{default}:active`)) === 4 ? true : undefined), { what: 'prefetch' });
    // The lease (1 s) is shorter than the slow task: only the heartbeat keeps the buffered ones leased.
    await new Promise((r) => setTimeout(r, 1300));
    for (const id of ids) expect(await hash(id)).toMatchObject({ status: 'processing', attempts: '1', retries: '0' });

    await t.close();
    const finished = await Promise.all(ids.map((id) => hash(id)));
    // Graceful shutdown lets the running tasks finish; the buffered ones go back without a retry spent.
    expect(finished.filter((h) => h.status === 'completed')).toHaveLength(2);
    expect(finished.filter((h) => h.status === 'pending' && h.retries === '0' && h.attempts === '1')).toHaveLength(2);
    expect(await redis.zcard(`${prefix}:{default}:active`)).toBe(0);
  }, 20_000);

  it('SIGTERM on a real process: stops accepting, saves the in-flight result, exits with code 0', async () => {
    // A queue of its own: nothing left by the tests above runs ahead of this task.
    const own = `${prefix}-sigterm`;
    service = await startService({ QUEUE_PREFIX: own, WORKER_COUNT: '1', SLOW_TASK_MS: '2000' });
    const res = await fetch(`${service.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'slow' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => ((await hash(id, own)).status === 'processing' ? true : undefined), { what: 'processing' });

    service.child.kill('SIGTERM');
    // The listener closes before the task ends (the order is the assertion; the wait only stops a hang).
    await waitFor(async () => ((await fetch(`${service!.url}/health/live`).catch(() => 'refused')) === 'refused' ? true : undefined), {
      intervalMs: 20,
      what: 'the listener to close',
    });
    expect((await hash(id, own)).status).toBe('processing');
    expect(await service.exited).toBe(0);
    expect(await hash(id, own)).toMatchObject({ status: 'completed', result: 'completed after 2 seconds' });
    expect(service.output()).toMatch(/worker pool stopped/);
  }, 30_000);
});
