import { Injectable, Module } from '@nestjs/common';
import request from 'supertest';
import { TaskHandler } from '../src/task-types/task-handler';
import { TaskHandlersModule } from '../src/task-types/task-handlers.module';
import { PinoLogger } from 'nestjs-pino';
import { ProcessState } from '../src/lifecycle/process-state';
import { ScheduleRepository } from '../src/queue/schedule.repository';
import { newTaskId } from '../src/queue/task-id';
import { SchedulerService, TICK_KEY_TTL_MS, tickKey } from '../src/schedules/scheduler.service';
import { freePort } from './support/service-process';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { delay, waitFor } from './support/wait';

/** A JSON task type: its payload is any JSON value. */
@Injectable()
@TaskHandler('json-report')
class JsonReportHandler implements TaskHandler<unknown, string> {
  handle(): Promise<string> {
    return Promise.resolve('done');
  }
}

@Module({ imports: [TaskHandlersModule.forFeature([JsonReportHandler])] })
class SpecTypesModule {}

interface Schedule {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  task: Record<string, unknown>;
  next_run_at: string | null;
  last_run_at: string | null;
  paused: boolean;
  created_at: string;
}

interface Task {
  id: string;
  queue: string;
  type: string;
  payload: unknown;
  schedule_id?: string;
  scheduled_for?: string;
}

/** POST /schedules, GET/DELETE /schedules/{id}, pause and resume, through one whole app (API, worker and scheduler). */
describe('periodic schedules (API)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('schedules');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2' }, { imports: [SpecTypesModule] });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const create = (body: unknown) => request(t.http).post('/schedules').send(body as object);

  /** The tasks the schedule created, by scheduled_for (from the listing). */
  async function tasksOf(scheduleId: string): Promise<Task[]> {
    const res = await request(t.http).get('/tasks?limit=1000').expect(200);
    return (res.body as Task[]).filter((x) => x.schedule_id === scheduleId).sort((a, b) => (a.scheduled_for! < b.scheduled_for! ? -1 : 1));
  }

  it('creates a schedule (201) with its first tick ahead, and answers it on GET and in the list', async () => {
    const before = Date.now();
    const res = await create({
      name: 'nightly report',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      task: { type: 'echo', payload: 'report', priority: 'high', backoff: { type: 'fixed' } },
    }).expect(201);
    const s = res.body as Schedule;
    expect(s).toMatchObject({
      name: 'nightly report',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      paused: false,
      last_run_at: null,
      task: { type: 'echo', payload: 'report', queue: 'default', priority: 'high', max_retry: 3, backoff: { type: 'fixed', delay_ms: 1000, jitter: false } },
    });
    expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
    const next = Date.parse(s.next_run_at!);
    expect(next).toBeGreaterThan(before);
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect(new Date(next).getUTCMinutes()).toBe(0);
    expect([1, 2]).toContain(new Date(next).getUTCHours());
    expect((await request(t.http).get(`/schedules/${s.id}`).expect(200)).body).toEqual(s);
    const list = (await request(t.http).get('/schedules').expect(200)).body as { schedules: Schedule[] };
    expect(list.schedules.map((x) => x.id)).toContain(s.id);
  });

  it('defaults: no name is "", no timezone is UTC', async () => {
    const s = (await create({ cron: '*/5 * * * *', task: { type: 'echo' } }).expect(201)).body as Schedule;
    expect(s).toMatchObject({ name: '', timezone: 'UTC', task: { type: 'echo', payload: '', priority: 'normal' } });
    await request(t.http).delete(`/schedules/${s.id}`).expect(204);
  });

  it.each<[string, unknown, RegExp]>([
    ['a bad cron', { cron: '61 * * * *', task: { type: 'echo' } }, /^cron is not valid: Constraint error/],
    ['a cron of 4 fields', { cron: '* * * *', task: { type: 'echo' } }, /^cron must have 5 fields/],
    ['no cron', { task: { type: 'echo' } }, /^cron must be a string/],
    ['an unknown time zone', { cron: '* * * * *', timezone: 'Mars/Olympus', task: { type: 'echo' } }, /^timezone "Mars\/Olympus" is not a known IANA time zone name/],
    ['no task', { cron: '* * * * *' }, /task must be an object/],
    ['an unknown task type', { cron: '* * * * *', task: { type: 'nope' } }, /^task\.type: unknown task type "nope"/],
    ['a payload its type rejects', { cron: '* * * * *', task: { type: 'sum', payload: 'not numbers' } }, /^task\.payload: /],
    ['a bad max_retry', { cron: '* * * * *', task: { type: 'echo', max_retry: 99 } }, /^task\.max_retry must be between 0 and 25/],
    ['delay_ms in the task', { cron: '* * * * *', task: { type: 'echo', delay_ms: 5 } }, /^property task\.delay_ms should not exist$/],
    ['an unknown field', { cron: '* * * * *', task: { type: 'echo' }, every: 5 }, /property every should not exist/],
    ['a name that is not a string', { name: 5, cron: '* * * * *', task: { type: 'echo' } }, /^name must be a string/],
  ])('rejects %s with 400 naming the field', async (_what, body, message) => {
    const res = await create(body).expect(400);
    expect((res.body as { message: string }).message).toMatch(message);
  });

  it('sends the tasks of a JSON type to the queue it names, payload as given', async () => {
    const payload = { report: 'daily', recipients: ['a@example.com'], n: 3 };
    const s = (await create({ cron: '* * * * * *', task: { type: 'json-report', payload, queue: 'reports' } }).expect(201)).body as Schedule;
    expect(s.task).toMatchObject({ type: 'json-report', payload, queue: 'reports' });
    // The first tick's task: on a slow machine the next tick may be listed too (newest first) by the
    // time the listing is read, so take the earliest scheduled.
    const task = await waitFor(async () => {
      const res = await request(t.http).get('/tasks?queue=reports').expect(200);
      const ticks = (res.body as Task[]).filter((x) => x.schedule_id === s.id);
      return ticks.sort((a, b) => (a.scheduled_for! < b.scheduled_for! ? -1 : 1))[0];
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'a task in the queue reports' });
    expect(task).toMatchObject({ queue: 'reports', type: 'json-report', payload, scheduled_for: s.next_run_at });
    expect(task.id).toMatch(/^reports\./);
    await request(t.http).delete(`/schedules/${s.id}`).expect(204);
  });

  it('answers 404 for an unknown or malformed id on every route', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      await request(t.http).get(`/schedules/${id}`).expect(404);
      await request(t.http).delete(`/schedules/${id}`).expect(404);
      await request(t.http).post(`/schedules/${id}/pause`).expect(404);
      await request(t.http).post(`/schedules/${id}/resume`).expect(404);
    }
  });

  it('fires every second: tasks carry schedule_id and consecutive scheduled_for; pause stops them, resume goes on from now, delete ends them', async () => {
    const s = (await create({ cron: '* * * * * *', task: { type: 'echo', payload: 'tick' } }).expect(201)).body as Schedule;
    const fired = await waitFor(async () => {
      const tasks = await tasksOf(s.id);
      return tasks.length >= 3 ? tasks : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'three ticks' });
    const seconds = fired.map((x) => Date.parse(x.scheduled_for!));
    expect(seconds[0]).toBe(Date.parse(s.next_run_at!));
    for (let i = 1; i < seconds.length; i += 1) expect(seconds[i] - seconds[i - 1]).toBe(1000);
    expect(fired[0]).toMatchObject({ type: 'echo', payload: 'tick', schedule_id: s.id });
    const one = (await request(t.http).get(`/tasks/${fired[0].id}`).expect(200)).body as Task;
    expect(one).toMatchObject({ schedule_id: s.id, scheduled_for: fired[0].scheduled_for });

    const paused = (await request(t.http).post(`/schedules/${s.id}/pause`).expect(200)).body as Schedule;
    expect(paused).toMatchObject({ paused: true, next_run_at: null });
    expect(Date.parse(paused.last_run_at!)).toBeGreaterThanOrEqual(seconds[2]);
    const countAtPause = (await tasksOf(s.id)).length;
    // A tick read just before the pause may still fire (README); nothing after it.
    await delay(2500);
    const whilePaused = await tasksOf(s.id);
    expect(whilePaused.length - countAtPause).toBeLessThanOrEqual(1);
    expect((await request(t.http).post(`/schedules/${s.id}/pause`).expect(200)).body).toMatchObject({ paused: true });

    const resumedAt = Date.now();
    const resumed = (await request(t.http).post(`/schedules/${s.id}/resume`).expect(200)).body as Schedule;
    expect(resumed.paused).toBe(false);
    // The ticks of the pause are not caught up: the next run is the first after now.
    expect(Date.parse(resumed.next_run_at!)).toBeGreaterThan(resumedAt - 1000);
    const afterResume = await waitFor(async () => {
      const tasks = await tasksOf(s.id);
      return tasks.length >= whilePaused.length + 2 ? tasks : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'ticks after resume' });
    const newOnes = afterResume.slice(whilePaused.length).map((x) => Date.parse(x.scheduled_for!));
    expect(newOnes[0]).toBe(Date.parse(resumed.next_run_at!));

    await request(t.http).delete(`/schedules/${s.id}`).expect(204);
    await request(t.http).get(`/schedules/${s.id}`).expect(404);
    const atDelete = (await tasksOf(s.id)).length;
    await delay(2500);
    // At most the tick in flight at the delete.
    expect((await tasksOf(s.id)).length - atDelete).toBeLessThanOrEqual(1);
    // The tasks it created stay.
    expect(atDelete).toBeGreaterThanOrEqual(afterResume.length);
  });
});

/**
 * The scheduler's turns driven by hand (SchedulerService.tick) against real Redis, for the windows a
 * running fleet rarely shows: a process that died between a tick's enqueue and the schedule's advance,
 * and two processes taking the same tick at once.
 */
describe('scheduler turns (crash between enqueue and advance, two processes on one tick)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('scheduler-turns');
  let t: TestApp;
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as PinoLogger;
  const scheduler = () =>
    new SchedulerService(t.app.get(ScheduleRepository), t.queue, t.app.get(ProcessState), t.config, silent);

  beforeAll(async () => {
    // No scheduler loop of its own: only the turns the test takes.
    t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', SCHEDULER_ENABLED: 'false' });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  /** The ticks (scheduled_for, ms) of the schedule's tasks, in order, duplicates kept. */
  async function ticksOf(scheduleId: string): Promise<number[]> {
    const res = await request(t.http).get('/tasks?limit=1000').expect(200);
    return (res.body as Task[]).filter((x) => x.schedule_id === scheduleId).map((x) => Date.parse(x.scheduled_for!)).sort((a, b) => a - b);
  }

  /** Until Redis' clock has passed `ms` (the turn reads due schedules by it). */
  const untilPast = (ms: number) => waitFor(async () => ((await t.app.get(ScheduleRepository).now()) > ms ? true : undefined), { intervalMs: 20, what: 'the tick to come' });

  it('replays the tick a dead process enqueued without advancing, and moves the schedule on once', async () => {
    const s = (await request(t.http).post('/schedules').send({ cron: '* * * * * *', task: { type: 'echo', payload: 'x' } }).expect(201)).body as Schedule;
    const tick = Date.parse(s.next_run_at!);
    const record = (await t.app.get(ScheduleRepository).get(s.id))!;
    // What a process does before it dies: the tick's task, with the tick's key; no advance.
    await t.queue.submit(
      [{ ...record.task, id: newTaskId(), idempotencyKey: tickKey(s.id, tick), requestHash: s.id, scheduleId: s.id, scheduledFor: tick }],
      TICK_KEY_TTL_MS,
    );
    await untilPast(tick);
    await scheduler().tick();
    expect(await ticksOf(s.id)).toEqual([tick]);
    const after = (await request(t.http).get(`/schedules/${s.id}`).expect(200)).body as Schedule;
    expect(after.last_run_at).toBe(new Date(tick).toISOString());
    expect(Date.parse(after.next_run_at!)).toBe(tick + 1000);

    // Two processes on the next tick at once: one task, one advance.
    await untilPast(tick + 1000);
    await Promise.all([scheduler().tick(), scheduler().tick(), scheduler().tick()]);
    expect(await ticksOf(s.id)).toEqual([tick, tick + 1000]);
    const last = (await request(t.http).get(`/schedules/${s.id}`).expect(200)).body as Schedule;
    expect(last.last_run_at).toBe(new Date(tick + 1000).toISOString());
    expect(Date.parse(last.next_run_at!)).toBeGreaterThanOrEqual(tick + 2000);
  });
});

describe('schedules with Redis unreachable', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, APP_ROLE: 'api', REDIS_COMMAND_TIMEOUT_MS: '200' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 503 on every route', async () => {
    await request(t.http).get('/schedules').expect(503);
    await request(t.http).post('/schedules').send({ cron: '* * * * *', task: { type: 'echo' } }).expect(503);
    await request(t.http).get('/schedules/00000000-0000-4000-8000-000000000000').expect(503);
    await request(t.http).post('/schedules/00000000-0000-4000-8000-000000000000/pause').expect(503);
    await request(t.http).post('/schedules/00000000-0000-4000-8000-000000000000/resume').expect(503);
    await request(t.http).delete('/schedules/00000000-0000-4000-8000-000000000000').expect(503);
  });
});
