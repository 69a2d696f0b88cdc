import Redis from 'ioredis';
import { PrivateRedis } from './support/redis-server';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { delay, waitFor } from './support/wait';

/**
 * SIGTERM of a real process whatever Redis does: down for long, paused, or answering. Every await
 * of the shutdown path has a deadline, so the process exits 0 after SHUTDOWN_TIMEOUT_MS plus a
 * fixed margin (SHUTDOWN_WRITE_MARGIN_MS 3 s and the 1 s QUIT bound), never waiting for Redis.
 */
describe('shutdown while Redis misbehaves', () => {
  const SHUTDOWN_TIMEOUT_MS = 1000;
  /** Far above SHUTDOWN_TIMEOUT_MS + 4 s: only a hang gets here (the old code never exited). */
  const HANG_MS = 30_000;
  let redis: PrivateRedis;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    redis = await PrivateRedis.start('everysec');
  });
  afterEach(async () => {
    await stopService(service);
    service = undefined;
    await redis.destroy();
  });

  async function startWithRunningTask(prefix: string): Promise<ServiceProcess> {
    const started = await startService({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      WORKER_COUNT: '2',
      SLOW_TASK_MS: '600000',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      SHUTDOWN_READY_DELAY_MS: '0',
    });
    const res = await fetch(`${started.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'slow' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => {
      const task = (await (await fetch(`${started.url}/tasks/${id}`)).json()) as { status: string };
      return task.status === 'processing' ? true : undefined;
    }, { what: 'the slow task to run' });
    return started;
  }

  /** Sends SIGTERM; resolves with the exit code, or 'hang' if the process is still alive after HANG_MS. */
  async function terminate(s: ServiceProcess): Promise<{ code: number | string; ms: number }> {
    const began = Date.now();
    s.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
    try {
      const code = await Promise.race([s.exited, hang]);
      return { code, ms: Date.now() - began };
    } finally {
      clearTimeout(timer);
    }
  }

  it('Redis killed 30 s before SIGTERM: exits 0 (no UNSUBSCRIBE or QUIT waits for it)', async () => {
    service = await startWithRunningTask('down');
    await redis.kill();
    await delay(31_000);
    const { code, ms } = await terminate(service);
    expect({ code, output: code === 0 ? '' : service.output().slice(-3000) }).toEqual({ code: 0, output: '' });
    process.stdout.write(`shutdown with Redis down for 31 s took ${ms} ms\n`);
  }, 90_000);

  it('Redis paused (CLIENT PAUSE ALL): exits 0 while Redis is still paused', async () => {
    service = await startWithRunningTask('paused');
    const admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    const PAUSE_MS = 25_000;
    let pauseEndsAt = 0;
    try {
      await admin.client('PAUSE', PAUSE_MS, 'ALL');
      pauseEndsAt = Date.now() + PAUSE_MS;
    } finally {
      admin.disconnect();
    }
    const { code } = await terminate(service);
    expect(code).toBe(0);
    // The order that matters: the process was gone before Redis answered again.
    expect(Date.now()).toBeLessThan(pauseEndsAt);
  }, 90_000);

  it('Redis answering: a clean SIGTERM after work exits 0 and logs no error', async () => {
    service = await startService({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'clean',
      WORKER_COUNT: '3',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      SHUTDOWN_READY_DELAY_MS: '0',
    });
    const url = service.url;
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const res = await fetch(`${url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'echo', payload: `n${i}` }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    await waitFor(async () => {
      for (const id of ids) {
        const task = (await (await fetch(`${url}/tasks/${id}`)).json()) as { status: string };
        if (task.status !== 'completed') return undefined;
      }
      return true;
    }, { what: 'every task to complete' });
    const { code } = await terminate(service);
    expect(code).toBe(0);
    const errors = service.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(errors).toEqual([]);
    expect(service.output()).toMatch(/worker pool stopped/);
  }, 60_000);
});
