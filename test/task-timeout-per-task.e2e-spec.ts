import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { TaskContext, TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { finishedTask } from './support/task-wait';
import { createTestApp, TestApp } from './support/test-app';

/** Why each attempt's signal aborted, by payload. */
const abortReasons = new Map<string, unknown[]>();

/** Never settles and ignores its signal (it only notes why it fired): the worst a handler can do to a slot. */
@Injectable()
@TaskHandler('never', { payload: 'string' })
class NeverHandler implements TaskHandler {
  handle(payload: string, { signal }: TaskContext): Promise<string> {
    signal.addEventListener('abort', () => abortReasons.set(payload, [...(abortReasons.get(payload) ?? []), signal.reason]));
    return new Promise(() => undefined);
  }
}

/** Finishes after 700 ms, whatever its signal says. */
@Injectable()
@TaskHandler('sleep700', { payload: 'string' })
class SleepHandler implements TaskHandler {
  handle(): Promise<string> {
    return new Promise((resolve) => setTimeout(() => resolve('slept'), 700));
  }
}

interface Task {
  id: string;
  status: string;
  error?: string;
  retries: number;
  attempts: number;
  timeout_ms?: number;
}

/** timeout_ms: a task's own limit on one attempt, overriding TASK_TIMEOUT_MS (300 ms here) both ways. */
describe('timeout_ms per task', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('task-timeout-own');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(
      { QUEUE_PREFIX: prefix, WORKER_COUNT: '1', TASK_TIMEOUT_MS: '300', RETRY_BASE_DELAY_MS: '10' },
      { providers: [NeverHandler, SleepHandler] },
    );
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const finished = (id: string) => finishedTask<Task>(t.http, id);

  it('a shorter timeout_ms: the ignoring handler is aborted with reason timeout, each attempt fails with it, retried by backoff; the only slot runs the next task', async () => {
    const stuck = (await request(t.http).post('/tasks').send({ type: 'never', payload: 'short', timeout_ms: 120, max_retry: 1 }).expect(201)).body as Task;
    expect(stuck.timeout_ms).toBe(120);
    const next = (await request(t.http).post('/tasks').send({ type: 'echo', payload: 'after' }).expect(201)).body as Task;

    expect(await finished(stuck.id)).toMatchObject({ status: 'failed', error: 'timeout after 120 ms', retries: 1, attempts: 2, timeout_ms: 120 });
    expect(abortReasons.get('short')).toEqual(['timeout', 'timeout']);
    expect(await finished(next.id)).toMatchObject({ status: 'completed' });
    await request(t.http).get('/health').expect(200);
  }, 30_000);

  it('a longer timeout_ms lets an attempt run past TASK_TIMEOUT_MS', async () => {
    const task = (await request(t.http).post('/tasks').send({ type: 'sleep700', timeout_ms: 5000, max_retry: 0 }).expect(201)).body as Task;

    expect(await finished(task.id)).toMatchObject({ status: 'completed', attempts: 1, timeout_ms: 5000 });
  }, 30_000);

  it('without timeout_ms, TASK_TIMEOUT_MS still applies', async () => {
    const plain = (await request(t.http).post('/tasks').send({ type: 'sleep700', max_retry: 0 }).expect(201)).body as Task;
    expect(plain).not.toHaveProperty('timeout_ms');

    expect(await finished(plain.id)).toMatchObject({ status: 'failed', error: 'timeout after 300 ms' });
  }, 30_000);

  it.each([[0], [86_400_001], [1.5], ['100']])('timeout_ms %p: 400', async (value) => {
    const res = await request(t.http).post('/tasks').send({ type: 'echo', timeout_ms: value }).expect(400);
    expect(res.body.message).toMatch(/^timeout_ms must be/);
  });
});
