import { Queue } from 'bullmq';
import { bullKey, openBullQueue } from '../bench/lib/bull';
import { BenchContext, QUICK } from '../bench/lib/context';
import {
  bullEnqueueCall,
  closedLoop,
  drainBull,
  drainOurs,
  drainSpread,
  ourEnqueueCall,
  ourProbe,
  probeIdle,
  readLatencies,
  sequentialLatency,
  TASK_BODY,
} from '../bench/lib/measure';
import { BenchBuild, buildPrivateCopy, removePrivateCopy } from '../bench/lib/build';
import { BenchCluster } from '../bench/lib/cluster';
import { OurQueue } from '../bench/lib/ours';
import { Child, killAllChildren, stopAll } from '../bench/lib/processes';
import { BenchRedis } from '../bench/lib/redis-server';
import { Table } from '../bench/lib/report';
import { maxOf, minOf, Sample } from '../bench/lib/stats';

/**
 * Proves the benchmark harness (bench/lib) works, on tiny sizes against its own private redis-server:
 * counts are asserted, speed never is. Every process it starts runs compiled JavaScript with plain
 * node (a private build of src/ and of bench/, as in bench/run.ts).
 */
describe('benchmark harness (smoke)', () => {
  let redis: BenchRedis;
  let ctx: BenchContext;
  let ours: OurQueue;
  let bull: Queue;
  let build: BenchBuild | undefined;
  const children: Child[] = [];

  beforeAll(async () => {
    build = await buildPrivateCopy(() => undefined);
    redis = await BenchRedis.start();
    // autocannon in its own process: the smoke test neither needs nor installs wrk.
    ctx = new BenchContext(redis, QUICK, build, () => undefined, undefined, 'autocannon');
    ours = await OurQueue.open(redis.url, build.code);
    bull = openBullQueue(redis.host, redis.port);
    await bull.waitUntilReady();
  }, 60_000);

  afterAll(async () => {
    await stopAll(children);
    await ours?.close();
    await bull?.close();
    await redis?.stop();
    killAllChildren();
    if (build) removePrivateCopy(build);
  });

  it('enqueues at library level, ours and BullMQ, single and bulk', async () => {
    await redis.flush();
    const single = await closedLoop(ourEnqueueCall(ours, 1), 5, 20_000, 200);
    const bulk = await closedLoop(ourEnqueueCall(ours, 100), 1, 20_000, 2);
    expect(single.tasks).toBe(200);
    expect(bulk.tasks).toBe(200);
    expect(await redis.admin.zcard(ours.keys.queue)).toBe(400);

    const bullSingle = await closedLoop(bullEnqueueCall(bull, 1), 5, 20_000, 200);
    const bullBulk = await closedLoop(bullEnqueueCall(bull, 100), 1, 20_000, 2);
    expect(bullSingle.tasks + bullBulk.tasks).toBe(400);
    expect(await bull.getWaitingCount()).toBe(400);
  });

  it('drains 200 queued tasks with our worker process and with a BullMQ worker', async () => {
    const o = await drainOurs(ctx, ours, 200, 10);
    expect(o).toMatchObject({ tasks: 200, completed: 200, failed: 0 });
    expect(o.problem).toBeUndefined();
    expect(o.perSec).toBeGreaterThan(0);
    expect(o.pendingBytes).toBeGreaterThan(0);

    const b = await drainBull(ctx, bull, 200, 10);
    expect(b).toMatchObject({ tasks: 200, completed: 200, failed: 0 });
    expect(await redis.admin.zcard(bullKey('completed'))).toBe(200);
  }, 60_000);

  it('drains tasks spread over 3 queues on 3 different masters of a Redis Cluster with our worker process', async () => {
    const cluster = await BenchCluster.start(3);
    let onCluster: OurQueue | undefined;
    try {
      onCluster = await OurQueue.open(cluster.env, build!.code);
      const placed = await cluster.spreadQueues(3);
      expect(placed[0].name).toBe('default');
      expect(new Set(placed.map((p) => p.master)).size).toBe(3);
      const r = await drainSpread(ctx, cluster, onCluster, 300, placed.map((p) => p.name), 10, 1);
      expect(r).toMatchObject({ tasks: 300, completed: 300, failed: 0 });
      expect(r.problem).toBeUndefined();
      expect(r.completedByQueue).toEqual(Object.fromEntries(placed.map((p) => [p.name, 100])));
      expect(r.redisCpuUsPerTask).toHaveLength(3);
      expect([...ctx.commandLines].some((c) => c.startsWith(`REDIS_CLUSTER_NODES=${cluster.env.REDIS_CLUSTER_NODES} APP_ROLE=worker`))).toBe(true);
    } finally {
      await onCluster?.close();
      await cluster.stop();
    }
  }, 90_000);

  it('runs the cross-check script (bench/crosscheck/bullmq-drain.mjs), which cleans up its queue', async () => {
    await redis.flush();
    const x = await ctx.runCrosscheck(200, 10);
    expect(x).toMatchObject({ n: 200, concurrency: 10, completed: 200, failed: 0 });
    expect(x.perSec).toBeGreaterThan(0);
    expect(await redis.admin.dbsize()).toBe(0);
    expect([...ctx.commandLines].some((c) => c.startsWith('node bench/crosscheck/bullmq-drain.mjs --redis='))).toBe(true);
  }, 60_000);

  it('measures pickup latency through the pickup handler of our worker process', async () => {
    await redis.flush();
    const worker = await ctx.ourPickupWorker(4);
    children.push(worker);
    const ids = await probeIdle(ourProbe(ours), 20, 2);
    const lat = await readLatencies(redis.admin, ids.map((id) => ours.keys.task(id)), ['o', 'result'], async () => (await redis.admin.zcard(ours.keys.byStatus('completed'))) + (await redis.admin.zcard(ours.keys.byStatus('failed'))), 20);
    expect(lat.count).toBe(20);
    expect(lat.p50).toBeGreaterThanOrEqual(0);
    await stopAll([worker]);
  }, 60_000);

  it('loads our API and the two reference apps over HTTP', async () => {
    await redis.flush();
    const [api, constant, nestBull] = await Promise.all([ctx.ourApi(), ctx.referenceApp('constant'), ctx.referenceApp('bullmq')]);
    children.push(api.child, constant.child, nestBull.child);
    const r = await ctx.load.run({ url: `${api.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 5, amount: 200 });
    expect(r).toMatchObject({ ok: 200, errors: 0, non2xx: 0, generator: 'autocannon' });
    expect(await redis.admin.zcard(ours.keys.queue)).toBe(200);
    const c = await ctx.load.run({ url: `${constant.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 5, amount: 200 });
    expect(c).toMatchObject({ ok: 200, errors: 0, non2xx: 0 });
    const nb = await ctx.load.run({ url: `${nestBull.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 5, amount: 100 });
    expect(nb).toMatchObject({ ok: 100, errors: 0, non2xx: 0 });
    expect(await bull.getWaitingCount()).toBe(100);
    const list = await sequentialLatency(api.url, ['/tasks?limit=100'], 10);
    expect(list.count).toBe(10);
    await stopAll([api.child, constant.child, nestBull.child]);
  }, 60_000);

  it('renders a table with medians and ranges', () => {
    const s = new Sample('tasks/s').add(3).add(1).add(2);
    const t = new Table('x', ['case', 'value']).row('a', s.format());
    expect(t.render()).toContain('| a    | 2 (1–3) |');
  });

  it('takes the largest and smallest of more values than a call can take as arguments (a fast pickup run made 200k probes)', () => {
    const many = Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 300_000);
    expect(() => Math.max(...many)).toThrow(RangeError); // why maxOf exists
    expect(maxOf(many)).toBe(299_999);
    expect(minOf(many)).toBe(0);
  });
});
