import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { NonRetryableError, TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

/** Fails every attempt with a retryable error; payload 'final' throws NonRetryableError instead. */
@Injectable()
@TaskHandler('always-fails', { payload: 'string' })
class AlwaysFailsHandler implements TaskHandler {
  handle(payload: string, { attempt }: { attempt: number }): Promise<string> {
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

/** backoff per task, observed as run_at - updated_at while each retry waits (both stamped by one settle write). */
describe('backoff per task', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('backoff');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(
      { QUEUE_PREFIX: prefix, WORKER_COUNT: '4', RETRY_BASE_DELAY_MS: '250', RETRY_MAX_DELAY_MS: '60000' },
      { providers: [AlwaysFailsHandler] },
    );
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  /**
   * Polls the task until it failed; returns, per retry waited for (1, 2, ...), run_at - updated_at as
   * first seen while it waited. Fails if a wait went by unseen.
   */
  async function observedDelays(id: string): Promise<number[]> {
    const delays: number[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const task = (await request(t.http).get(`/tasks/${id}`).expect(200)).body as Task;
      if (task.status === 'pending' && task.run_at && delays[task.retries - 1] === undefined) {
        delays[task.retries - 1] = Date.parse(task.run_at) - Date.parse(task.updated_at);
      }
      if (task.status === 'failed') {
        expect(delays).toHaveLength(task.retries);
        expect([...delays.keys()].every((i) => delays[i] !== undefined)).toBe(true);
        return delays;
      }
      if (Date.now() > deadline) throw new Error(`task ${id} did not fail in time: ${JSON.stringify(task)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const submit = async (body: object): Promise<Task> =>
    (await request(t.http).post('/tasks').send({ type: 'always-fails', ...body }).expect(201)).body as Task;

  it('fixed vs exponential vs the default, side by side', async () => {
    const fixed = await submit({ max_retry: 3, backoff: { type: 'fixed', delay_ms: 400 } });
    const exponential = await submit({ max_retry: 3, backoff: { type: 'exponential', delay_ms: 200 } });
    const capped = await submit({ max_retry: 3, backoff: { delay_ms: 200, max_delay_ms: 500 } });
    const plain = await submit({ max_retry: 2 });

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
    const jittered = await submit({ max_retry: 3, backoff: { type: 'fixed', delay_ms: 600, jitter: true } });

    const delays = await observedDelays(jittered.id);

    process.stdout.write(`jittered delays (fixed 600): ${delays}\n`);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(300);
      expect(d).toBeLessThanOrEqual(600);
    }
  }, 30_000);

  it('NonRetryableError skips the remaining retries whatever the policy', async () => {
    const task = await submit({ payload: 'final', max_retry: 5, backoff: { type: 'fixed', delay_ms: 10 } });
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
