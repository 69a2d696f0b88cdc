import { hostname } from 'node:os';
import request from 'supertest';
import { WorkerKeys } from '../src/queue/queue-keys';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { WorkerPresenceService } from '../src/worker/worker-presence.service';
import { Scrape } from './support/prometheus';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, spawnService, stopService, untilReady } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

interface WorkerJson {
  id: string;
  host: string;
  pid: number;
  role: string;
  queues: string[];
  concurrency: number;
  in_flight: number;
  started_at: string;
  last_heartbeat_at: string;
}

/** GET /workers from heartbeat keys: this process, and worker processes that stop (SIGTERM) or die (SIGKILL). */
describe('GET /workers', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('workers');
  const keys = new WorkerKeys(prefix);
  let t: TestApp;
  const children: ServiceProcess[] = [];

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', WORKER_PREFETCH: '0', SLOW_TASK_MS: '20000', TASK_LEASE_MS: '3000' });
  });
  afterAll(async () => {
    await Promise.all(children.map(stopService));
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const workers = async (): Promise<WorkerJson[]> => (await request(t.http).get('/workers').expect(200)).body.workers;
  const find = async (id: string) => (await workers()).find((w) => w.id === id);

  it('lists this process with what it runs, and in_flight follows its running handlers', async () => {
    const pool = t.app.get(WorkerPoolService);
    const me = await waitFor(() => find(pool.processId));
    expect(me).toMatchObject({ host: hostname(), pid: process.pid, role: 'all', concurrency: 2, in_flight: 0 });
    expect(me.queues).toContain('default');
    expect(Date.parse(me.started_at)).toBeLessThanOrEqual(Date.parse(me.last_heartbeat_at));

    const slow = (await request(t.http).post('/tasks').send({ type: 'slow' }).expect(201)).body.id;
    await waitFor(() => (pool.runningCount === 1 ? true : undefined));
    await t.app.get(WorkerPresenceService).beat();
    expect((await find(pool.processId))?.in_flight).toBe(1);
    await request(t.http).delete(`/tasks/${slow}`).expect(204);

    const scrape = new Scrape((await request(t.http).get('/metrics').expect(200)).text);
    expect(scrape.value('taskqueue_workers')).toBe(1);
  });

  it('a SIGTERMed worker process removes its entry; a SIGKILLed one drops out when its TTL runs out', async () => {
    const env = { QUEUE_PREFIX: prefix, APP_ROLE: 'worker', LOG_LEVEL: 'warn' };
    // A TTL far longer than the test: only the process itself can remove its entry that fast.
    const [stopped, killed] = await Promise.all([spawnService({ ...env, TASK_LEASE_MS: '60000' }), spawnService({ ...env, TASK_LEASE_MS: '2000' })]);
    children.push(stopped, killed);
    // Two services booting through ts-node at once on a busy machine: more than the usual 30 s.
    await Promise.all([untilReady(stopped, 90_000), untilReady(killed, 90_000)]);
    const idOf = (s: ServiceProcess) => `${hostname()}-${s.child.pid}`;
    await waitFor(async () => ((await find(idOf(stopped))) && (await find(idOf(killed))) ? true : undefined), { what: 'both children listed' });
    expect(await find(idOf(stopped))).toMatchObject({ role: 'worker', concurrency: 3 });
    expect(await redis.pttl(keys.process(idOf(stopped)))).toBeGreaterThan(30_000);

    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    expect(await redis.exists(keys.process(idOf(stopped)))).toBe(0);
    expect(await find(idOf(stopped))).toBeUndefined();

    killed.child.kill('SIGKILL');
    await killed.exited;
    await waitFor(async () => ((await find(idOf(killed))) === undefined ? true : undefined), { timeoutMs: 20_000, what: 'the killed worker to drop out' });
    expect(await redis.exists(keys.process(idOf(killed)))).toBe(0);
  }, 150_000);

  it('an app that closes removes its own entry', async () => {
    const id = t.app.get(WorkerPoolService).processId;
    expect(await redis.exists(keys.process(id))).toBe(1);
    await t.close();
    expect(await redis.exists(keys.process(id))).toBe(0);
  });
});
