import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Holds the only worker slot until the spec opens it. */
let openGate: () => void = () => undefined;
let gateStarted = false;
/** Payloads of the `record` tasks, in the order their handlers started. */
const started: string[] = [];

@Injectable()
@TaskHandler('gate', { payload: 'string' })
class GateHandler implements TaskHandler {
  handle(): Promise<string> {
    gateStarted = true;
    return new Promise((resolve) => {
      openGate = () => resolve('opened');
    });
  }
}

@Injectable()
@TaskHandler('record', { payload: 'string' })
class RecordHandler implements TaskHandler {
  handle(payload: string): Promise<string> {
    started.push(payload);
    return Promise.resolve(payload);
  }
}

interface Task {
  id: string;
  status: string;
  priority?: string;
}

interface Listed {
  id: string;
  payload: string;
  created_at: string;
  completed_at?: string;
}

/**
 * Payloads in a listing's order: newest `by` first, ties (one millisecond) by id, descending. A
 * priority index lists by creation time (whatever the status); finished tasks without one (normal
 * priority) list by finish time. Two tasks can share a millisecond and ids are random, so among those
 * the order is the ids', not the order of the requests.
 */
function listedOrder(tasks: Listed[], by: 'created_at' | 'completed_at'): string[] {
  return [...tasks]
    .sort((a, b) => (a[by] === b[by] ? (a.id < b.id ? 1 : -1) : (a[by] ?? '') < (b[by] ?? '') ? 1 : -1))
    .map((x) => x.payload);
}

/**
 * Priority under a saturated worker: one slot (WORKER_COUNT=1) and no prefetch buffer
 * (WORKER_PREFETCH=0), so the order the slot takes tasks in is the order fetch hands them out.
 */
describe('priority', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('priority');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '1', WORKER_PREFETCH: '0' }, { providers: [GateHandler, RecordHandler] });
  });
  afterAll(async () => {
    openGate();
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const post = (body: object) => request(t.http).post('/tasks').send(body).expect(201);

  it('a due high task always starts before any due normal one, normal before low, FIFO within a level', async () => {
    const gate = (await post({ type: 'gate' })).body as Task;
    await waitFor(() => (gateStarted ? true : undefined), { what: 'the gate task to hold the only slot' });

    // Submitted one after another (distinct creation times), the levels interleaved.
    const plan: Array<[string, string | undefined]> = [
      ['low-1', 'low'],
      ['normal-1', undefined],
      ['high-1', 'high'],
      ['low-2', 'low'],
      ['normal-2', 'normal'],
      ['high-2', 'high'],
      ['normal-3', undefined],
      ['low-3', 'low'],
      ['high-3', 'high'],
    ];
    const ids = new Map<string, Task>();
    for (const [name, priority] of plan) {
      const task = (await post({ type: 'record', payload: name, ...(priority ? { priority } : {}) })).body as Task;
      ids.set(name, task);
    }
    // Returned when not normal, absent (as before) for normal tasks, even when given.
    expect(ids.get('high-1')?.priority).toBe('high');
    expect(ids.get('low-1')?.priority).toBe('low');
    expect(ids.get('normal-2')).not.toHaveProperty('priority');
    // A batch lands in the same levels.
    await request(t.http)
      .post('/tasks/batch')
      .send([
        { type: 'record', payload: 'low-4', priority: 'low' },
        { type: 'record', payload: 'high-4', priority: 'high' },
      ])
      .expect(201);
    expect(started).toEqual([]);

    openGate();
    await waitFor(() => (started.length === 11 ? true : undefined), { timeoutMs: 20_000, what: 'every recorded task to start' });

    expect(started).toEqual(['high-1', 'high-2', 'high-3', 'high-4', 'normal-1', 'normal-2', 'normal-3', 'low-1', 'low-2', 'low-3', 'low-4']);
    const gateDone = (await request(t.http).get(`/tasks/${gate.id}`).expect(200)).body as Task;
    expect(gateDone.status).toBe('completed');
  }, 40_000);

  it('GET /tasks?priority= lists one level (combined with status), and the Link keeps the filter', async () => {
    // Every recorded task has finished (the lows last), so none moves while the listings are read.
    await waitFor(
      async () => ((await request(t.http).get('/tasks?type=record&status=completed').expect(200)).body.length === 11 ? true : undefined),
      { timeoutMs: 20_000, what: 'every recorded task to finish' },
    );
    const highs = (await request(t.http).get('/tasks?priority=high&type=record').expect(200)).body as Listed[];
    expect([...highs.map((x) => x.payload)].sort()).toEqual(['high-1', 'high-2', 'high-3', 'high-4']);
    expect(highs.map((x) => x.payload)).toEqual(listedOrder(highs, 'created_at'));

    const normals = (await request(t.http).get('/tasks?priority=normal&type=record&status=completed').expect(200)).body as Listed[];
    expect([...normals.map((x) => x.payload)].sort()).toEqual(['normal-1', 'normal-2', 'normal-3']);
    expect(normals.map((x) => x.payload)).toEqual(listedOrder(normals, 'completed_at'));

    const page = await request(t.http).get('/tasks?priority=low&limit=2').expect(200);
    expect(page.body).toHaveLength(2);
    expect(page.headers.link).toMatch(/^<\/tasks\?priority=low&limit=2&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
    const next = await request(t.http).get(/^<([^>]+)>/.exec(page.headers.link as string)?.[1] as string).expect(200);
    const lows = [...(page.body as Listed[]), ...(next.body as Listed[])];
    expect([...lows.map((x) => x.payload)].sort()).toEqual(['low-1', 'low-2', 'low-3', 'low-4']);
    expect(lows.map((x) => x.payload)).toEqual(listedOrder(lows, 'created_at'));

    const bad = await request(t.http).get('/tasks?priority=urgent').expect(400);
    expect(bad.body.message).toBe('priority must be one of: high, normal, low');
  });
});
