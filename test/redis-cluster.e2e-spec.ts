import Redis from 'ioredis';
import request from 'supertest';
import { QueueKeys } from '../src/queue/queue-keys';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { RedisCluster, redisCli, RedisServer } from '../tools/dev/redis-server';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

const PREFIX = 'cluster-e2e';

/** Keys of this suite on one node (SCAN there: the cluster client would hide where they live). */
async function keysOn(node: RedisServer): Promise<string[]> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    client.disconnect();
  }
}

/**
 * The service on a real 3-master Redis Cluster (loopback, tools/dev RedisCluster): ioredis Cluster for
 * commands, scripts (EVALSHA per node), the blocking wait and both pub/sub channels; the keys live on
 * the node of the queue's hash tag; a slot moved under a running service (ASK/TRYAGAIN, then MOVED).
 */
describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  let t: TestApp;
  /** A second queue whose hash tag lands on another master than `default`'s. */
  let other: string;
  const lines: string[] = [];
  const logged = (msg: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    const nodeOf = async (queue: string) => cluster.nodeOfSlot(await cluster.slotOf(`${PREFIX}:{${queue}}:queue`));
    const defaultNode = await nodeOf('default');
    other = '';
    for (let i = 1; !other; i += 1) if ((await nodeOf(`q${i}`)) !== defaultNode) other = `q${i}`;
    // One master that may evict: the boot check reads every master and names that one.
    await redisCli(cluster.nodes[2].port, ['config', 'set', 'maxmemory-policy', 'volatile-lru']);
    t = await createTestApp({
      WORKER_QUEUES: `default,${other}`,
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_PREFIX: PREFIX,
      WORKER_COUNT: '2',
      SLOW_TASK_MS: '600000',
      FLAKY_FAILURE_RATE: '1',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '100',
      // Heartbeats every 20 s: a deleted running task can only be stopped by the cancel channel here.
      TASK_LEASE_MS: '60000',
      LOG_LEVEL: 'warn',
    }, { logStream: { write: (line: string) => void lines.push(line) } });
    await redisCli(cluster.nodes[2].port, ['config', 'set', 'maxmemory-policy', 'noeviction']);
  }, 40_000);

  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  const submit = async (body: object) => (await request(t.http).post('/tasks').send(body).expect(201)).body as { id: string };
  const finished = async (id: string) => (await request(t.http).get(`/tasks/${id}?wait=20`).expect(200)).body as { status: string; result?: string; retries: number };

  it('checks every master at boot: one warning for the master that may evict', () => {
    expect(logged('Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict accepted tasks. Set maxmemory-policy noeviction')).toEqual([
      expect.objectContaining({ redis: `127.0.0.1:${cluster.nodes[2].port}`, maxmemory_policy: 'volatile-lru' }),
    ]);
  });

  it('runs the core flows: submit, complete, retry to failed, get, list, delete a running task (cancel channel)', async () => {
    const echo = await submit({ type: 'echo', payload: 'over the cluster' });
    // ?wait is answered from the events channel (pub/sub through the cluster bus).
    expect(await finished(echo.id)).toMatchObject({ status: 'completed', result: 'echo: over the cluster' });

    const flaky = await submit({ type: 'flaky', payload: 'x', max_retry: 2 });
    expect(await finished(flaky.id)).toMatchObject({ status: 'failed', retries: 2 });

    const listed = (await request(t.http).get('/tasks?status=completed').expect(200)).body as { id: string }[];
    expect(listed.map((task) => task.id)).toContain(echo.id);

    const slow = await submit({ type: 'slow' });
    await waitFor(async () => ((await request(t.http).get(`/tasks/${slow.id}`)).body.status === 'processing' ? true : undefined), {
      what: 'the slow task to start',
    });
    await request(t.http).delete(`/tasks/${slow.id}`).expect(204);
    await request(t.http).get(`/tasks/${slow.id}`).expect(404);
    // Two workers: the slot of the deleted task frees only if the cancel message reached its handler.
    const slow2 = await submit({ type: 'slow' });
    await waitFor(async () => ((await request(t.http).get(`/tasks/${slow2.id}`)).body.status === 'processing' ? true : undefined), {
      what: 'a second slow task to start',
    });
    const after = await submit({ type: 'echo', payload: 'after cancel' });
    expect(await finished(after.id)).toMatchObject({ status: 'completed' });
    await request(t.http).delete(`/tasks/${slow2.id}`).expect(204);
  }, 40_000);

  it('runs a second queue on another master; every key of a queue lives on the master of its hash tag, and nowhere else', async () => {
    const task = await submit({ type: 'echo', payload: 'second queue', queue: other });
    expect(task.id.startsWith(`${other}.`)).toBe(true);
    expect(await finished(task.id)).toMatchObject({ status: 'completed', result: 'echo: second queue' });

    const perNode = await Promise.all(cluster.nodes.map(async (node) => ({ node, keys: await keysOn(node) })));
    const owners = new Set<RedisServer>();
    for (const queue of ['default', other]) {
      const slot = await cluster.slotOf(`${PREFIX}:{${queue}}:queue`);
      const owner = await cluster.nodeOfSlot(slot);
      owners.add(owner);
      const counts = perNode.map(({ node, keys }) => ({ owner: node === owner, keys: keys.filter((k) => k.startsWith(`${PREFIX}:{${queue}}:`)).length }));
      expect(counts.filter((c) => !c.owner).map((c) => c.keys)).toEqual([0, 0]);
      // At least a finished task's hash, its s:completed entry and the outcome counter of its minute.
      expect(counts.find((c) => c.owner)!.keys).toBeGreaterThanOrEqual(3);
      // Not a standalone fallback: the cluster counts them in the slot.
      expect(await redisCli(owner.port, ['cluster', 'countkeysinslot', String(slot)])).toMatch(/^[1-9]\d*\n$/);
    }
    expect(owners.size).toBe(2);
  });

  it('REDIS_WAIT_REPLICAS on Cluster: enqueue and WAIT go to the queue\'s master in one pipeline; no replica there, so 503', async () => {
    const waiting = await createTestApp({
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_PREFIX: PREFIX,
      APP_ROLE: 'api',
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '50',
    });
    try {
      const slot = await cluster.slotOf(`${PREFIX}:{${other}}:queue`);
      const before = Number(await redisCli((await cluster.nodeOfSlot(slot)).port, ['cluster', 'countkeysinslot', String(slot)]));
      await request(waiting.http).post('/tasks').send({ type: 'echo', queue: other }).expect(503);
      // Stored on the queue's master all the same (the script ran there; only the WAIT fell short).
      expect(Number(await redisCli((await cluster.nodeOfSlot(slot)).port, ['cluster', 'countkeysinslot', String(slot)]))).toBeGreaterThan(before);
    } finally {
      await waiting.close();
    }
  });

  it('re-loads the scripts on a node that lost them (NOSCRIPT: EVAL, then EVALSHA again)', async () => {
    await Promise.all(cluster.nodes.map((node) => redisCli(node.port, ['script', 'flush'])));
    const echo = await submit({ type: 'echo', payload: 'after SCRIPT FLUSH' });
    expect(await finished(echo.id)).toMatchObject({ status: 'completed', result: 'echo: after SCRIPT FLUSH' });
  });

  it('keeps completing tasks while the queue slot moves to another master (ASK / TRYAGAIN, then MOVED)', async () => {
    const slot = await cluster.slotOf(`${PREFIX}:{default}:queue`);
    const before = await cluster.nodeOfSlot(slot);
    const target = cluster.nodes.find((n) => n !== before)!;
    // A stream of tasks submitted during the move, some finishing before and some after.
    const ids: string[] = [];
    let submitting = true;
    const errors: number[] = [];
    const stream = (async () => {
      while (submitting) {
        const res = await request(t.http).post('/tasks').send({ type: 'echo', payload: String(ids.length) });
        if (res.status === 201) ids.push(res.body.id);
        else errors.push(res.status);
      }
    })();
    await waitFor(() => (ids.length >= 20 ? true : undefined), { what: 'tasks before the move' });
    const { keys } = await cluster.migrateSlot(slot, target);
    const duringMove = ids.length;
    await waitFor(() => (ids.length >= duringMove + 20 ? true : undefined), { what: 'tasks after the move', timeoutMs: 20_000 });
    submitting = false;
    await stream;

    expect(keys).toBeGreaterThan(0);
    expect(await cluster.nodeOfSlot(slot)).toBe(target);
    for (const id of ids) expect(await finished(id)).toMatchObject({ status: 'completed' });
    // A command caught mid-migration may answer 503 (TRYAGAIN past its retries); never a 500.
    expect(errors.filter((status) => status !== 503)).toEqual([]);
    expect((await keysOn(before)).filter((k) => k.includes('{default}'))).toEqual([]);
  }, 40_000);

  it('a worker serving every queue joins a brand-new queue from the registry channel, its periodic read of the registry stopped', async () => {
    const everyQueue = await createTestApp({ REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: PREFIX, APP_ROLE: 'worker', WORKER_COUNT: '1', LOG_LEVEL: 'warn' });
    try {
      // Its cancel channel of `default` is subscribed after the registry's, on the same connection
      // (ServedQueues.start); the suite's app listens there too, hence two.
      const channel = new QueueKeys(PREFIX).cancelChannel;
      const subscribers = async () => {
        let n = 0;
        for (const node of cluster.nodes) n += Number((await redisCli(node.port, ['pubsub', 'numsub', channel])).trim().split('\n')[1] ?? 0);
        return n;
      };
      await waitFor(async () => ((await subscribers()) >= 2 ? true : undefined), { what: 'the worker subscribed' });
      await everyQueue.app.get(WorkerPoolService).queues.discovery?.stop();
      const task = await submit({ type: 'echo', payload: 'brand-new queue', queue: 'fresh-on-cluster' });
      expect(await finished(task.id)).toMatchObject({ status: 'completed', result: 'echo: brand-new queue' });
    } finally {
      await everyQueue.close();
    }
  });
});
