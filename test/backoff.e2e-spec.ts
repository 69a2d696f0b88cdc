import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { QueueRepository } from '../src/queue/queue.repository';
import { queueOfTaskId } from '../src/queue/task-id';
import { NonRetryableError, TaskContext, TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

/** Set by the spec: pauses the queue of a task (each task of this spec has a queue of its own). */
let pauseQueueOf: (taskId: string) => Promise<void> = () => Promise.reject(new Error('the app is not up'));

/**
 * Fails every attempt with a retryable error; payload 'final' throws NonRetryableError instead. Before
 * failing it pauses the task's queue, so the retry its failure schedules stays pending until the spec,
 * having read it, resumes the queue: no wait can go by unseen, however slowly the spec polls.
 */
@Injectable()
@TaskHandler('always-fails', { payload: 'string' })
class AlwaysFailsHandler implements TaskHandler {
  async handle(payload: string, { attempt, taskId }: TaskContext): Promise<string> {
    await pauseQueueOf(taskId);
    if (payload === 'final') throw new NonRetryableError('cannot ever work');
    throw new Error(`failed attempt ${attempt}`);
  }
}

interface Task {
  id: string;
  status: string;
  retries: number;
  attempts: number;
  error?: string;
  run_at?: string;
  updated_at: string;
  backoff?: { type: string; delay_ms: number; max_delay_ms: number; jitter: boolean };
}

/**
 * backoff per task, observed as run_at - updated_at while each retry waits (both stamped by one settle
 * write); the handler holds each retry (pauses its queue) until the spec has read it.
 */
describe('backoff per task', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('backoff');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(
      { QUEUE_PREFIX: prefix, WORKER_COUNT: '4', RETRY_BASE_DELAY_MS: '250', RETRY_MAX_DELAY_MS: '60000' },
      { providers: [AlwaysFailsHandler] },
    );
    const queue = t.app.get(QueueRepository);
    pauseQueueOf = (taskId) => queue.pause(queueOfTaskId(taskId));
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  /**
   * Polls the task until it failed; returns, per retry waited for (1, 2, ...), run_at - updated_at read
   * while it waited in its paused queue, which is then resumed. Fails if a wait went by unseen.
   */
  async function observedDelays(id: string): Promise<number[]> {
    const delays: number[] = [];
    const queue = t.app.get(QueueRepository);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const task = (await request(t.http).get(`/tasks/${id}`).expect(200)).body as Task;
      if (task.status === 'pending' && task.run_at && delays[task.retries - 1] === undefined) {
        delays[task.retries - 1] = Date.parse(task.run_at) - Date.parse(task.updated_at);
        await queue.resume(queueOfTaskId(id));
      }
      if (task.status === 'failed') {
        expect(delays).toHaveLength(task.retries);
        expect([...delays.keys()].every((i) => delays[i] !== undefined)).toBe(true);
        return delays;
      }
      if (Date.now() > deadline) throw new Error(`task ${id} did not fail in time: ${JSON.stringify(task)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const submit = async (body: object): Promise<Task> =>
    (await request(t.http).post('/tasks').send({ type: 'always-fails', ...body }).expect(201)).body as Task;

  it('fixed vs exponential vs the default, side by side', async () => {
    const fixed = await submit({ queue: 'fixed', max_retry: 3, backoff: { type: 'fixed', delay_ms: 400 } });
    const exponential = await submit({ queue: 'exponential', max_retry: 3, backoff: { type: 'exponential', delay_ms: 200 } });
    const capped = await submit({ queue: 'capped', max_retry: 3, backoff: { delay_ms: 200, max_delay_ms: 500 } });
    const plain = await submit({ queue: 'plain', max_retry: 2 });

    // Resolved at submit: every field set, defaults from RETRY_BASE_DELAY_MS / RETRY_MAX_DELAY_MS.
    expect(fixed.backoff).toEqual({ type: 'fixed', delay_ms: 400, max_delay_ms: 60_000, jitter: false });
    expect(capped.backoff).toEqual({ type: 'exponential', delay_ms: 200, max_delay_ms: 500, jitter: false });
    expect(plain).not.toHaveProperty('backoff');

    const [f, e, c, p] = await Promise.all([fixed, exponential, capped, plain].map((x) => observedDelays(x.id)));
    process.stdout.write(`retry delays: fixed ${f}, exponential ${e}, capped ${c}, default ${p}\n`);
    expect(f).toEqual([400, 400, 400]);
    expect(e).toEqual([200, 400, 800]);
    expect(c).toEqual([200, 400, 500]);
    expect(p).toEqual([250, 500]);
  }, 40_000);

  it('with jitter each wait is between half the delay and all of it', async () => {
    const jittered = await submit({ queue: 'jittered', max_retry: 3, backoff: { type: 'fixed', delay_ms: 600, jitter: true } });

    const delays = await observedDelays(jittered.id);

    process.stdout.write(`jittered delays (fixed 600): ${delays}\n`);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(300);
      expect(d).toBeLessThanOrEqual(600);
    }
  }, 30_000);

  it('NonRetryableError skips the remaining retries whatever the policy', async () => {
    const task = await submit({ queue: 'final', payload: 'final', max_retry: 5, backoff: { type: 'fixed', delay_ms: 10 } });
    const delays = await observedDelays(task.id);
    expect(delays).toEqual([]);
    expect((await request(t.http).get(`/tasks/${task.id}`).expect(200)).body).toMatchObject({ status: 'failed', error: 'cannot ever work', retries: 0, attempts: 1 });
  });

  it.each<[unknown, string]>([
    [{ type: 'linear' }, 'backoff.type must be one of: exponential, fixed'],
    [{ delay_ms: 0 }, 'backoff.delay_ms must be between 1 and 3600000'],
    [{ delay_ms: 500, max_delay_ms: 100 }, 'backoff.max_delay_ms must not be smaller than backoff.delay_ms'],
    [{ jitter: 'yes' }, 'backoff.jitter must be a boolean'],
    [[], 'backoff must be an object'],
  ])('backoff %p: 400 %p', async (backoff, message) => {
    const res = await request(t.http).post('/tasks').send({ type: 'echo', backoff }).expect(400);
    expect(res.body.message).toBe(message);
  });
});
