import { randomUUID } from 'node:crypto';
import { expandTaskHash } from '../src/queue/compact-task';
import { withTaskDefaults } from './support/task-defaults';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Several pools (three in this process, one in its own process) share one queue. */
describe('several worker pools on one queue', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('pools');
  const pools: TestApp[] = [];
  let external: ServiceProcess | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 3; i += 1) pools.push(await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '4' }));
    external = await startService({ QUEUE_PREFIX: prefix, APP_ROLE: 'worker', WORKER_COUNT: '4', LOG_LEVEL: 'info' });
  }, 60_000);
  afterAll(async () => {
    await stopService(external);
    for (const p of pools) await p.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('runs every task exactly once in the normal path (each leased once: attempts = 1)', async () => {
    const ids = Array.from({ length: 1200 }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 100) {
      const batch = ids.slice(i, i + 100).map((id, j) => ({ id, type: j % 2 ? 'echo' : 'reverse', payload: `n${i + j}`, maxRetry: 3 }));
      await pools[i % 3].queue.enqueue(batch);
    }
    await waitFor(async () => ((await redis.zcard(`${prefix}:{default}:s:completed`)) === ids.length ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'all tasks to complete',
    });
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(`${prefix}:{default}:t:${id}`);
    const rows = (await pipeline.exec())!.map(([, v]) => withTaskDefaults(expandTaskHash(v as Record<string, string>))).map((h) => [h.status, h.attempts, h.retries]);
    expect(rows.filter(([status, attempts, retries]) => status !== 'completed' || attempts !== '1' || retries !== '0')).toEqual([]);
    // Nothing is left leased or queued.
    expect(await redis.zcard(`${prefix}:{default}:active`)).toBe(0);
    expect(await redis.zcard(`${prefix}:{default}:queue`)).toBe(0);
    // The work was really shared: the external process ran some of it, without errors.
    expect(external!.output().match(/"msg":"task completed"/g)?.length ?? 0).toBeGreaterThan(0);
    expect(external!.output()).not.toMatch(/"level":50/);
  }, 90_000);
});
