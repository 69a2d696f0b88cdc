import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { PrivateRedis } from './support/redis-server';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { delay, waitFor } from './support/wait';

const CLK_TCK = 100;

/** CPU seconds (user + system) the process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function timed(fetchCall: () => Promise<Response>): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await fetchCall();
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - started };
}

/** Redis down and Redis slow, seen from a client and from the service's own logs and CPU. */
describe('Redis faults, seen from a client', () => {
  let redis: PrivateRedis;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    redis = await PrivateRedis.start('always');
  });
  afterEach(async () => stopService(service));
  afterAll(async () => redis.destroy());

  const post = (url: string, body: object) =>
    fetch(`${url}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('Redis down: 503 within a second, live stays 200, one log line, no hot loop, resumes by itself', async () => {
    service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'down', WORKER_COUNT: '3' });
    const url = service.url;
    await redis.kill();
    const outageStart = service.output().length;

    for (let i = 0; i < 5; i += 1) {
      const r = await timed(() => post(url, { type: 'echo', payload: `during outage ${i}` }));
      expect(r.status).toBe(503);
      expect(r.ms).toBeLessThan(1000);
    }
    expect((await timed(() => fetch(`${url}/health/ready`))).status).toBe(503);
    expect((await timed(() => fetch(`${url}/health/live`))).status).toBe(200);

    // Idle during the outage: the reconnect and retry loops must not spin.
    const cpuBefore = cpuSeconds(service.child.pid!);
    await delay(3000);
    const cpuUsed = cpuSeconds(service.child.pid!) - cpuBefore;
    expect(cpuUsed).toBeLessThan(0.6); // 20% of one core; a hot loop would use ~3 s

    const outageLog = service.output().slice(outageStart);
    const errorLines = outageLog.split('\n').filter((l) => l.includes('"level":50'));
    expect(errorLines.length).toBeGreaterThanOrEqual(1);
    expect(errorLines.length).toBeLessThanOrEqual(2);
    expect(errorLines[0]).toMatch(/Redis is unavailable/);

    await redis.restart();
    await waitFor(async () => ((await fetch(`${url}/health/ready`)).ok ? true : undefined), { timeoutMs: 10_000, what: 'readiness' });
    const res = await post(url, { type: 'echo', payload: 'after' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => {
      const task = (await (await fetch(`${url}/tasks/${id}`)).json()) as { status: string };
      return task.status === 'completed' ? true : undefined;
    }, { what: 'a task after the outage to complete' });
    expect(service.output().slice(outageStart)).toMatch(/Redis answers again/);
    // None of the 503'd submissions exists.
    const all = (await (await fetch(`${url}/tasks?limit=1000`)).json()) as Array<{ payload: string }>;
    expect(all.map((t) => t.payload)).toEqual(['after']);
  }, 60_000);

  it('Redis slow (CLIENT PAUSE 3 s): requests time out cleanly with 503, nothing is half-written', async () => {
    service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'slow', WORKER_COUNT: '2' });
    const url = service.url;
    const admin = new Redis(redis.port, '127.0.0.1');
    await admin.client('PAUSE', 3000, 'ALL');
    const pausedAt = Date.now();

    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => timed(() => post(url, { type: 'echo', payload: `paused ${i}` }))),
    );
    for (const r of results) {
      expect(r.status).toBe(503);
      // REDIS_COMMAND_TIMEOUT_MS (1 s) plus scheduling slack: a clean timeout, not a hang.
      expect(r.ms).toBeLessThan(2500);
    }
    expect((await timed(() => fetch(`${url}/health/live`))).status).toBe(200);
    expect((await timed(() => fetch(`${url}/health/ready`))).status).toBe(503);

    await delay(Math.max(0, 3500 - (Date.now() - pausedAt)));
    await waitFor(async () => ((await fetch(`${url}/health/ready`)).ok ? true : undefined), { what: 'readiness after the pause' });
    // A timed-out enqueue may still have been applied once Redis resumed (documented): whatever
    // exists must be whole, and must run to completion.
    await waitFor(async () => ((await admin.zcard('slow:{default}:queue')) + (await admin.zcard('slow:{default}:active')) === 0 ? true : undefined), {
      what: 'the queue to drain',
    });
    admin.disconnect();
    const check = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'src/cli/check-queue.ts')], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, QUEUE_PREFIX: 'slow' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(check.stderr).toBe('');
    const report = JSON.parse(check.stdout) as { violations: unknown[]; byStatus: Record<string, number> };
    expect(report.violations).toEqual([]);
    expect(report.byStatus.pending + report.byStatus.processing).toBe(0);
    expect(check.status).toBe(0);
  }, 60_000);
});
