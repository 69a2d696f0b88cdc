import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, spawnService, stopService, untilReady } from './support/service-process';
import { delay, waitFor } from './support/wait';

interface Task {
  id: string;
  schedule_id?: string;
  scheduled_for?: string;
}

/**
 * Three real processes (API, worker, both), each running the scheduler, one per-second schedule:
 * one task per tick, none missing, none doubled, across a SIGKILL and restart of one process; after
 * every process was stopped (6 s) for longer than the misfire grace (3 s), one catch-up task, not a burst.
 */
describe('periodic schedules across processes', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('schedules-mp');
  const env = { QUEUE_PREFIX: prefix, WORKER_COUNT: '2', SCHEDULER_MISFIRE_GRACE_MS: '3000', LOG_LEVEL: 'warn' };
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    for (const role of ['all', 'worker', 'api']) services.push(await spawnService({ ...env, APP_ROLE: role }));
    // Three boots at once on a loaded machine take longer than one.
    await Promise.all(services.map((s) => untilReady(s, 60_000)));
  }, 70_000);
  afterAll(async () => {
    for (const s of services) {
      s.child.kill('SIGCONT');
      await stopService(s);
    }
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const api = () => services[0].url;

  /** The schedule's ticks (scheduled_for, ms), as created, in order. */
  async function ticksOf(scheduleId: string): Promise<number[]> {
    const res = await fetch(`${api()}/tasks?limit=1000`);
    const tasks = (await res.json()) as Task[];
    return tasks
      .filter((t) => t.schedule_id === scheduleId)
      .map((t) => Date.parse(t.scheduled_for!))
      .sort((a, b) => a - b);
  }

  const waitForTicks = (scheduleId: string, count: number, what: string) =>
    waitFor(async () => {
      const ticks = await ticksOf(scheduleId);
      return ticks.length >= count ? ticks : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200, what });

  it('creates exactly one task per tick, through a restart and a stop of every process (one catch-up task)', async () => {
    const res = await fetch(`${api()}/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cron: '* * * * * *', task: { type: 'echo', payload: 'tick' } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    await waitForTicks(id, 2, 'the first ticks');
    // SIGKILL one process (it may die between a tick's enqueue and the schedule's advance) and start another.
    const killed = services[2];
    killed.child.kill('SIGKILL');
    await killed.exited;
    // Not waited for: the other two go on firing while it boots, and it joins when it is up.
    services[2] = await spawnService({ ...env, APP_ROLE: 'api' });
    const afterRestart = (await ticksOf(id)).length;
    const beforeStop = await waitForTicks(id, afterRestart + 2, 'ticks after the restart');

    // Every process stopped for longer than the grace: the ticks missed come back as one task.
    for (const s of services) s.child.kill('SIGSTOP');
    await delay(6000);
    for (const s of services) s.child.kill('SIGCONT');
    const all = await waitForTicks(id, beforeStop.length + 3, 'ticks after the stop');
    expect((await fetch(`${api()}/schedules/${id}`, { method: 'DELETE' })).status).toBe(204);

    // None doubled.
    expect(new Set(all).size).toBe(all.length);
    // None missing, but for one gap: the stop, whose missed ticks made one catch-up task.
    const gaps = all.slice(1).map((t, i) => ({ from: all[i], to: t })).filter((g) => g.to - g.from !== 1000);
    expect(gaps).toHaveLength(1);
    expect(gaps[0].to - gaps[0].from).toBeGreaterThan(3000);
    expect(gaps[0].from).toBeGreaterThanOrEqual(beforeStop[beforeStop.length - 1]);
    // No error but the outage report of commands that timed out across the stop (SIGSTOP froze them mid-flight).
    const errors = services.flatMap((s) => s.output().split('\n').filter((line) => line.includes('"level":50') && !line.includes('Redis is unavailable')));
    expect(errors).toEqual([]);
  }, 90_000);
});
