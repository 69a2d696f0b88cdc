import request from 'supertest';
import { WorkerPoolService } from '../src/worker/worker-pool.service';
import { PrivateRedis } from './support/redis-server';
import { spawnService } from './support/service-process';
import { createTestApp, TestApp } from './support/test-app';
import { delay, waitFor } from './support/wait';

/** The connections' life: booting with Redis away, what the logs say of it, the cancel channel across a restart. */
describe('Redis connections', () => {
  let redis: PrivateRedis;

  beforeEach(async () => {
    redis = await PrivateRedis.start('always');
  });
  afterEach(async () => redis.destroy());

  it('boots while Redis is down: live at once, ready once Redis answers; the password never reaches the logs', async () => {
    await redis.kill();
    const service = await spawnService({
      REDIS_URL: `redis://default:s3cret-pw@127.0.0.1:${redis.port}`,
      SHUTDOWN_READY_DELAY_MS: '0',
    });
    try {
      const { url, output } = service;
      await waitFor(async () => ((await fetch(`${url}/health/live`).catch(() => undefined))?.ok ? true : undefined), {
        timeoutMs: 30_000,
        what: 'liveness while Redis is down',
      });
      expect((await fetch(`${url}/health/ready`)).status).toBe(503);
      expect((await fetch(`${url}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"echo"}' })).status).toBe(503);

      await redis.restart();
      await waitFor(async () => ((await fetch(`${url}/health/ready`)).ok ? true : undefined), { timeoutMs: 20_000, what: 'readiness' });
      expect(output()).toMatch(/Redis is not reachable/);
      expect(output()).toContain(`redis://***@127.0.0.1:${redis.port}`);
      expect(output()).not.toContain('s3cret-pw');
    } finally {
      await service.kill();
    }
  }, 60_000);

  describe('cancel channel after a Redis restart', () => {
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('a DELETE after the outage still reaches the running handler through the channel', async () => {
      // A lease of 60 s: the heartbeat (every 20 s) cannot be what stops the task; it would say 'lease-lost'.
      t = await createTestApp({
        REDIS_URL: redis.url,
        QUEUE_PREFIX: 'cancel-restart',
        WORKER_COUNT: '1',
        SLOW_TASK_MS: '600000',
        TASK_LEASE_MS: '60000',
      });
      const lines: string[] = [];
      const pool = t.app.get(WorkerPoolService);
      const executor = (pool as unknown as { executor: { report: (...args: unknown[]) => void } }).executor;
      const report = executor.report.bind(executor);
      executor.report = (...args: unknown[]) => {
        const outcome = args[2] as { mode: string; reason?: string };
        lines.push(`${outcome.mode}:${outcome.reason ?? ''}`);
        report(...args);
      };
      const { body } = await request(t.http).post('/tasks').send({ type: 'slow' }).expect(201);
      await waitFor(async () => ((await request(t!.http).get(`/tasks/${body.id}`)).body.started_at ? true : undefined), {
        what: 'the slow task to start',
      });
      await redis.kill();
      await delay(500);
      await redis.restart();
      await waitFor(async () => ((await request(t!.http).get('/health/ready')).status === 200 ? true : undefined), {
        timeoutMs: 20_000,
        what: 'readiness after the restart',
      });
      // ioredis subscribes again after the reconnect; give it the moment it needs.
      await waitFor(
        async () => {
          await request(t!.http).delete(`/tasks/${body.id}`);
          return lines.length > 0 ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 500, what: 'the running handler to be stopped' },
      );
      expect(lines).toEqual(['discard:deleted']);
      expect(pool.runningCount).toBe(0);
    }, 60_000);
  });
});
