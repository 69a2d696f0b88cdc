import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Records when (this process' clock) each attempt's handler started, by task id. */
const handlerStarts = new Map<string, number>();

@Injectable()
@TaskHandler('stamp', { payload: 'string' })
class StampHandler implements TaskHandler {
  handle(payload: string): Promise<string> {
    handlerStarts.set(payload, Date.now());
    return Promise.resolve('stamped');
  }
}

interface Task {
  id: string;
  status: string;
  created_at: string;
  run_at?: string;
  started_at?: string;
  completed_at?: string;
}

const ms = (iso: string | undefined): number => Date.parse(iso as string);

/** Scheduled tasks (delay_ms, run_at) through the HTTP API and an idle worker. */
describe('scheduling (delay_ms, run_at)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('scheduling');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2' }, { providers: [StampHandler] });
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const get = async (id: string): Promise<Task> => (await request(t.http).get(`/tasks/${id}`).expect(200)).body as Task;
  const completed = (id: string) =>
    waitFor(async () => {
      const task = await get(id);
      return task.status === 'completed' ? task : undefined;
    }, { timeoutMs: 20_000, what: `task ${id} to complete` });

  /** Submits a stamp task with the given scheduling fields; its payload is a tag to find its handler start. */
  async function submit(tag: string, fields: Record<string, unknown>): Promise<Task> {
    const res = await request(t.http).post('/tasks').send({ type: 'stamp', payload: tag, ...fields }).expect(201);
    return res.body as Task;
  }

  it('a delayed task waits as pending with run_at, then an idle worker starts it on time: never early, late by only a few ms', async () => {
    // The workers are idle: they block on the wake-up marker, each at most 5 s (MAX_BLOCK_MS).
    await new Promise((r) => setTimeout(r, 200));
    const latenessMs: number[] = [];
    for (const delay of [300, 700, 1500]) {
      const tag = `delay-${delay}`;
      const created = await submit(tag, { delay_ms: delay });
      expect(created.status).toBe('pending');
      expect(ms(created.run_at) - ms(created.created_at)).toBe(delay);
      const waiting = await get(created.id);
      expect(waiting).toMatchObject({ status: 'pending', run_at: created.run_at });

      const done = await completed(created.id);

      // Both times are Redis' clock: the start is recorded after the fetch that judged the task due.
      const lateness = ms(done.started_at) - ms(created.run_at);
      expect(lateness).toBeGreaterThanOrEqual(0);
      // The handler (this process' clock, the same machine as Redis) did not start before run_at either.
      expect(handlerStarts.get(tag)).toBeGreaterThanOrEqual(ms(created.run_at) - 1);
      latenessMs.push(lateness);
    }
    process.stdout.write(`delayed task started after run_at by ${latenessMs.join(', ')} ms (delays 300, 700, 1500 ms; idle workers)\n`);
    // Loose on purpose (no wall-clock bound): only catches a wake-up left to the 5 s idle block.
    for (const lateness of latenessMs) expect(lateness).toBeLessThan(1000);
  }, 60_000);

  it('run_at with an offset names an instant; a past run_at runs at once, without run_at', async () => {
    const at = new Date(Date.now() + 800);
    // The same instant written with +02:00.
    const local = new Date(at.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const scheduled = await submit('run-at', { run_at: local });
    expect(scheduled.run_at).toBe(at.toISOString());

    const past = await submit('past', { run_at: '2001-02-03T04:05:06Z' });
    expect(past.run_at).toBeUndefined();

    const doneScheduled = await completed(scheduled.id);
    expect(ms(doneScheduled.started_at)).toBeGreaterThanOrEqual(at.getTime());
    // Due at once: queued at its creation time, not at 2001.
    const donePast = await completed(past.id);
    expect(ms(donePast.started_at)).toBeGreaterThanOrEqual(ms(past.created_at));
  }, 30_000);

  it('the listing shows a scheduled task as pending with run_at; DELETE removes it and it never runs', async () => {
    const created = await submit('deleted', { delay_ms: 1500 });
    const listed = (await request(t.http).get('/tasks?status=pending&type=stamp').expect(200)).body as Task[];
    expect(listed.find((x) => x.id === created.id)).toMatchObject({ status: 'pending', run_at: created.run_at });

    await request(t.http).delete(`/tasks/${created.id}`).expect(204);

    await new Promise((r) => setTimeout(r, 2000));
    expect(handlerStarts.has('deleted')).toBe(false);
    await request(t.http).get(`/tasks/${created.id}`).expect(404);
  }, 30_000);

  it.each<[string, Record<string, unknown>, string]>([
    ['both delay_ms and run_at', { delay_ms: 10, run_at: '2030-01-01T00:00:00Z' }, 'give either delay_ms or run_at, not both'],
    ['delay_ms over 365 days', { delay_ms: 31_536_000_001 }, 'delay_ms must be between 0 and 31536000000 (365 days)'],
    ['run_at without an offset', { run_at: '2030-01-01T00:00:00' }, 'run_at must be an ISO 8601 date-time with a UTC offset, e.g. 2030-01-31T12:00:00Z'],
    ['run_at over 365 days ahead', { run_at: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 'run_at must not be more than 365 days ahead'],
  ])('%s: 400 naming it, alone and as a batch element', async (_what, fields, message) => {
    const res = await request(t.http).post('/tasks').send({ type: 'stamp', ...fields }).expect(400);
    expect(res.body.message).toBe(message);
    const batch = await request(t.http).post('/tasks/batch').send([{ type: 'stamp' }, { type: 'stamp', ...fields }]).expect(400);
    expect(batch.body.message).toBe(`no task was created: [1] ${message}`);
  });
});
