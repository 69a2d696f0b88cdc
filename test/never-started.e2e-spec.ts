import { expandTaskHash } from '../src/queue/compact-task';
import { withTaskDefaults } from './support/task-defaults';
import { createServer, Server } from 'node:net';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { freePort, ServiceProcess, spawnService, startService, stopService } from './support/service-process';
import { waitFor } from './support/wait';

/**
 * A task whose handler never started costs no retry: tasks leased into a worker's prefetch buffer
 * when it is SIGKILLed, and a process that fails to boot leases nothing at all.
 */
describe('tasks that never started', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('never-started');
  const services: ServiceProcess[] = [];
  // The task's fields, a completed task's unpacked from its compact form.
  const hash = async (id: string) => withTaskDefaults(expandTaskHash(await redis.hgetall(`${prefix}:{default}:t:${id}`)));
  // Lease short enough that recovery comes within seconds (the command timeout must stay below a third).
  const env = { QUEUE_PREFIX: prefix, TASK_LEASE_MS: '3000', REDIS_COMMAND_TIMEOUT_MS: '500', SHUTDOWN_READY_DELAY_MS: '0' };

  afterEach(async () => {
    for (const s of services.splice(0)) await stopService(s);
  });
  afterAll(async () => {
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  async function submit(url: string, body: object): Promise<string> {
    const res = await fetch(`${url}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  it('SIGKILL of a worker holding prefetched tasks: they run later with retries 0, even with max_retry 0', async () => {
    const a = await startService({ ...env, WORKER_COUNT: '1', WORKER_PREFETCH: '50', SLOW_TASK_MS: '600000' });
    services.push(a);
    // Instant tasks first, so the prefetch buffer grows to its maximum.
    const warmup = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(a.url, { type: 'echo', payload: `w${i}` })));
    await waitFor(async () => ((await Promise.all(warmup.map(hash))).every((h) => h.status === 'completed') ? true : undefined), {
      what: 'the warm-up tasks',
    });
    // One task holds the only slot; the rest can only wait in the buffer.
    const slow = await submit(a.url, { type: 'slow', max_retry: 0 });
    await waitFor(async () => ((await hash(slow)).started_at ? true : undefined), { what: 'the slow task to start' });
    const submitted = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(a.url, { type: 'echo', payload: `p${i}`, max_retry: 0 })));
    // How many of them the buffer takes depends on the measured task durations (about 20 ms of work
    // per slot); wait until it has taken some and stopped taking more, then kill it with them leased.
    let prefetched: string[] = [];
    await waitFor(
      async () => {
        const leasedNow = (await Promise.all(submitted.map(async (id) => ((await hash(id)).status === 'processing' ? id : undefined)))).filter(
          (id): id is string => id !== undefined,
        );
        const stable = leasedNow.length > 0 && leasedNow.length === prefetched.length;
        prefetched = leasedNow;
        return stable ? true : undefined;
      },
      { intervalMs: 300, what: 'tasks to be leased into the buffer' },
    );
    for (const id of prefetched) expect((await hash(id)).started_at).toBeUndefined();
    a.child.kill('SIGKILL');
    await a.exited;

    const b = await startService({ ...env, WORKER_COUNT: '2' });
    services.push(b);
    await waitFor(async () => ((await Promise.all(submitted.map(hash))).every((h) => h.status === 'completed') ? true : undefined), {
      timeoutMs: 30_000,
      what: 'every task to complete on the second worker',
    });
    for (const id of submitted) {
      const h = await hash(id);
      const wasLeased = prefetched.includes(id);
      expect({ id, status: h.status, retries: h.retries, stalls: h.stalls }).toEqual({
        id,
        status: 'completed',
        retries: '0',
        stalls: wasLeased ? '1' : undefined,
      });
    }
    // The task that did start is a failed attempt, as before: max_retry 0 ends it.
    await waitFor(async () => ((await hash(slow)).status === 'failed' ? true : undefined), { timeoutMs: 30_000, what: 'the started task to be recovered' });
    expect(await hash(slow)).toMatchObject({ status: 'failed', retries: '0', error: 'lease expired: worker lost' });
  }, 120_000);

  it('a process that cannot bind its port exits 1 and leases nothing', async () => {
    const queued = await (async () => {
      const s = await startService({ ...env, APP_ROLE: 'api' });
      services.push(s);
      const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => submit(s.url, { type: 'echo', payload: `q${i}` })));
      await stopService(s);
      return ids;
    })();
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const child = await spawnService({ ...env, WORKER_COUNT: '2' }, port);
      services.push(child);
      const code = await child.exited;
      const untouched = await Promise.all(queued.map(async (id) => (await hash(id)).attempts));
      expect(untouched).toEqual(queued.map(() => '0'));
      expect({ code, said: /cannot listen/.test(child.output()) }).toEqual({ code: 1, said: true });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    for (const id of queued) expect(await hash(id)).toMatchObject({ status: 'pending', attempts: '0' });
  }, 60_000);
});
