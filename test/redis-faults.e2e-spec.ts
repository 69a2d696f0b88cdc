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

const COMMAND_TIMEOUT_MS = 1000;
/**
 * "A 503, not a hang": every request must be answered, and an answer slower than ten command
 * timeouts counts as a hang. Only a bound to stop waiting; how fast the 503s come is printed, not
 * asserted (the chaos report has the slowest 503 of a whole run).
 */
const HANG_MS = 10 * COMMAND_TIMEOUT_MS;

async function answered(url: string, init: RequestInit = {}): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(HANG_MS) });
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started };
  } catch (err) {
    throw new Error(`${init.method ?? 'GET'} ${url}: no answer within ${HANG_MS} ms (a hang): ${String(err)}`);
  }
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
    answered(`${url}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('Redis down: 503 (not a hang), live stays 200, one log line, no hot loop, resumes by itself', async () => {
    service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'down', WORKER_COUNT: '3', REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) });
    const url = service.url;
    // Taken before the kill: the outage line may be written (and reach us) before kill() resolves.
    const outageStart = service.output().length;
    await redis.kill();

    const took: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const r = await post(url, { type: 'echo', payload: `during outage ${i}` });
      expect(r.status).toBe(503);
      took.push(r.ms);
    }
    expect((await answered(`${url}/health/ready`)).status).toBe(503);
    expect((await answered(`${url}/health/live`)).status).toBe(200);
    process.stdout.write(`redis-faults: POST while Redis is down answered 503 in ${Math.min(...took)}..${Math.max(...took)} ms\n`);

    // Idle during the outage: the reconnect and retry loops must not spin. Measured against the wall
    // time that passed, so a slow machine does not matter: a hot loop uses about all of it.
    const cpuBefore = cpuSeconds(service.child.pid!);
    const wallBefore = Date.now();
    await delay(3000);
    const cpuUsed = cpuSeconds(service.child.pid!) - cpuBefore;
    const wall = (Date.now() - wallBefore) / 1000;
    process.stdout.write(`redis-faults: CPU during the outage ${cpuUsed.toFixed(2)} s in ${wall.toFixed(1)} s\n`);
    expect(cpuUsed).toBeLessThan(0.2 * wall);

    const outageLog = service.output().slice(outageStart);
    const errorLines = outageLog.split('\n').filter((l) => l.includes('"level":50'));
    expect(errorLines.length).toBeGreaterThanOrEqual(1);
    expect(errorLines.length).toBeLessThanOrEqual(2);
    expect(errorLines[0]).toMatch(/Redis is unavailable/);

    await redis.restart();
    await waitFor(async () => ((await fetch(`${url}/health/ready`)).ok ? true : undefined), { timeoutMs: 10_000, what: 'readiness' });
    const res = await fetch(`${url}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'echo', payload: 'after' }) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => {
      const task = (await (await fetch(`${url}/tasks/${id}`)).json()) as { status: string };
      return task.status === 'completed' ? true : undefined;
    }, { what: 'a task after the outage to complete' });
    // The end of the outage is logged once commands have succeeded for a while without a failure.
    await waitFor(() => (/Redis answers again/.test(service!.output().slice(outageStart)) ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the end of the outage to be logged',
    });
    // None of the 503'd submissions exists.
    const all = (await (await fetch(`${url}/tasks?limit=1000`)).json()) as Array<{ payload: string }>;
    expect(all.map((t) => t.payload)).toEqual(['after']);
  }, 60_000);

  it('Redis not answering (frozen): writes and readiness answer 503 while it is frozen and 200 once it answers; nothing is half-written', async () => {
    service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'slow', WORKER_COUNT: '2', REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) });
    const url = service.url;

    // Everything in this block is answered while Redis cannot answer: it resumes only after the block,
    // so the order of events, not a time window, decides what the service sees.
    redis.freeze();
    try {
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => post(url, { type: 'echo', payload: `frozen ${i}` })));
      for (const r of results) expect(r.status).toBe(503);
      expect((await answered(`${url}/health/live`)).status).toBe(200);
      expect((await answered(`${url}/health/ready`)).status).toBe(503);
      const took = results.map((r) => r.ms);
      process.stdout.write(`redis-faults: POST while Redis is frozen answered 503 in ${Math.min(...took)}..${Math.max(...took)} ms\n`);
    } finally {
      redis.resume();
    }

    await waitFor(async () => ((await answered(`${url}/health/ready`)).status === 200 ? true : undefined), { what: 'readiness once Redis answers' });
    // A timed-out enqueue may still have been applied once Redis resumed (documented): whatever
    // exists must be whole, and must run to completion.
    const admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      await waitFor(async () => ((await admin.zcard('slow:{default}:queue')) + (await admin.zcard('slow:{default}:active')) === 0 ? true : undefined), {
        what: 'the queue to drain',
      });
    } finally {
      admin.disconnect();
    }
    const check = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'src/cli/check-queue.ts')], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, QUEUE_PREFIX: 'slow' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(check.stderr).toBe('');
    const report = JSON.parse(check.stdout) as { violations: unknown[]; byStatus: Record<string, number> };
    expect(report.violations).toEqual([]);
    expect((report.byStatus.pending ?? 0) + (report.byStatus.processing ?? 0)).toBe(0);
    expect(check.status).toBe(0);
  }, 60_000);
});
