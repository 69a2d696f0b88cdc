import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Task ids are opaque: 22 characters of base64url (16 random bytes) since 2026-11-30; UUIDs v4 before. */
const TASK_ID = /^[A-Za-z0-9_-]{22}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('REST API contract (seed-compatible)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('api');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', BODY_LIMIT: '4kb', DEFAULT_MAX_RETRY: '3' });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const post = (body: unknown) => request(t.http).post('/tasks').send(body as object);
  const finished = (id: string) =>
    waitFor(
      async () => {
        const res = await request(t.http).get(`/tasks/${id}`);
        return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
      },
      { what: `task ${id} to finish` },
    );

  it('POST /tasks answers 201 with the task, pending, durable in Redis before the answer', async () => {
    const res = await post({ type: 'echo', payload: 'Hello World', max_retry: 3 }).expect(201);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ type: 'echo', payload: 'Hello World', status: 'pending', retries: 0, max_retry: 3 });
    expect(res.body.id).toMatch(TASK_ID);
    expect(res.body.created_at).toMatch(ISO_UTC);
    expect(res.body.updated_at).toMatch(ISO_UTC);
    expect(res.body).not.toHaveProperty('result');
    // The 201 is only sent once the task is in Redis: read it straight from the store.
    const stored = await redis.hgetall(`${prefix}:{default}:t:${res.body.id}`);
    expect(stored).toMatchObject({ type: 'echo', payload: 'Hello World', max_retry: '3' });
  });

  it('defaults: payload "" and max_retry DEFAULT_MAX_RETRY', async () => {
    const res = await post({ type: 'echo' }).expect(201);
    expect(res.body).toMatchObject({ payload: '', max_retry: 3 });
  });

  it.each([
    ['echo', 'Hello World', 'echo: Hello World'],
    ['reverse', 'Hello', 'olleH'],
    ['reverse', 'a😀b', 'b😀a'],
    ['sum', '[1, 2, 5]', '8.00'],
    ['sum', '[]', '0.00'],
    ['sum', '[0.1, 0.2]', '0.30'],
  ])('%s(%j) completes with %j', async (type, payload, result) => {
    const created = await post({ type, payload }).expect(201);
    const done = await finished(created.body.id);
    expect(done).toMatchObject({ status: 'completed', result, retries: 0, attempts: 1 });
    expect(done.completed_at).toMatch(ISO_UTC);
    expect(done.started_at).toMatch(ISO_UTC);
    expect(done).not.toHaveProperty('error');
  });

  it('GET /tasks/{id}: 404 JSON for an unknown id and for a malformed one', async () => {
    for (const path of ['/tasks/6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11', '/tasks/not-a-uuid', '/tasks/%FF', "/tasks/1'%20OR%201=1"]) {
      const res = await request(t.http).get(path).expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'task not found' });
    }
  });

  describe('bad input answers 4xx JSON naming the problem, and stores nothing', () => {
    const cases: Array<[string, () => request.Test, number, RegExp]> = [
      ['invalid JSON', () => request(t.http).post('/tasks').set('Content-Type', 'application/json').send('{"type": "echo",'), 400, /not valid JSON/],
      ['wrong content type', () => request(t.http).post('/tasks').set('Content-Type', 'text/plain').send('{"type":"echo"}'), 400, /Content-Type must be application\/json/],
      ['form encoded', () => request(t.http).post('/tasks').type('form').send({ type: 'echo' }), 400, /Content-Type/],
      ['no body at all', () => request(t.http).post('/tasks'), 400, /^request body is empty: send a JSON object$/],
      ['an empty JSON body', () => request(t.http).post('/tasks').set('Content-Type', 'application/json'), 400, /^request body is empty: send a JSON object$/],
      ['a JSON array', () => post([{ type: 'echo' }]), 400, /JSON object/],
      ...['null', '5', 'true', '"str"'].map((json): [string, () => request.Test, number, RegExp] => [
        `JSON ${json}`,
        () => request(t.http).post('/tasks').set('Content-Type', 'application/json').send(json),
        400,
        /^body must be a JSON object$/,
      ]),
      ['missing type', () => post({ payload: 'x' }), 400, /type/],
      ['empty type', () => post({ type: '' }), 400, /type must not be empty/],
      ['type not a string', () => post({ type: 42 }), 400, /type must be a string/],
      ['payload a number', () => post({ type: 'echo', payload: 5 }), 400, /payload must be a string/],
      ['payload null', () => post({ type: 'echo', payload: null }), 400, /payload must be a string/],
      ['payload an object', () => post({ type: 'echo', payload: { a: 1 } }), 400, /payload must be a string/],
      ['max_retry too big', () => post({ type: 'echo', max_retry: 26 }), 400, /max_retry must be between 0 and 25/],
      ['max_retry negative', () => post({ type: 'echo', max_retry: -1 }), 400, /max_retry/],
      ['max_retry fractional', () => post({ type: 'echo', max_retry: 1.5 }), 400, /max_retry must be an integer/],
      ['max_retry a string', () => post({ type: 'echo', max_retry: '3' }), 400, /max_retry must be an integer/],
      ['unknown field', () => post({ type: 'echo', urgency: 1 }), 400, /property urgency should not exist/],
      ['__proto__ key', () => request(t.http).post('/tasks').set('Content-Type', 'application/json').send('{"type":"echo","__proto__":{"x":1}}'), 400, /__proto__/],
      ['unknown task type', () => post({ type: 'email' }), 400, /unknown task type "email"; known types: echo, flaky, http, reverse, slow, sum/],
      ['sum with text', () => post({ type: 'sum', payload: 'one two' }), 400, /sum payload must be a JSON array/],
      ['sum with a string element', () => post({ type: 'sum', payload: '[1, "2"]' }), 400, /element 1 is not a finite number/],
      ['sum with an object', () => post({ type: 'sum', payload: '{"a":1}' }), 400, /JSON array/],
      ['sum overflowing', () => post({ type: 'sum', payload: '[1e308, 1e308]' }), 400, /overflow/],
      ['sum with 1e999', () => post({ type: 'sum', payload: '[1e999]' }), 400, /not a finite number/],
      ['body over BODY_LIMIT', () => post({ type: 'echo', payload: 'x'.repeat(5000) }), 413, /larger than the limit/],
    ];

    it.each(cases)('%s', async (_name, send, status, message) => {
      const before = await redis.zcard(`${prefix}:{default}:s:pending`);
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.statusCode).toBe(status);
      expect(typeof res.body.error).toBe('string');
      expect(res.body.message).toMatch(message);
      expect(await redis.zcard(`${prefix}:{default}:s:pending`)).toBe(before);
    });
  });

  it.each([
    ['/tasks?status=done', /status must be one of/],
    ['/tasks?limit=0', /limit must be an integer between 1 and 1000/],
    ['/tasks?limit=1001', /limit/],
    ['/tasks?limit=ten', /limit/],
    ['/tasks?limit=1.5', /limit/],
    ['/tasks?status=pending&status=failed', /status/],
    ['/tasks?cursor=garbage!', /cursor/],
    ['/tasks?cursor=bm90LWEtY3Vyc29y', /cursor is not valid/],
    ['/tasks?type=a%20b', /type may only contain/],
    ['/tasks?sort=asc', /property sort should not exist/],
  ])('GET %s answers 400', async (path, message) => {
    const res = await request(t.http).get(path).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toMatch(message);
  });

  it('unknown routes and methods answer 404 JSON', async () => {
    for (const [method, path] of [
      ['get', '/nope'],
      ['put', '/tasks/6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11'],
      ['post', '/tasks/6f1c1b9e-58b8-4a43-9d3e-2b0f4f1f6a11'],
    ] as const) {
      const res = await request(t.http)[method](path).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }
  });

  it('health endpoints answer 200 with status ok', async () => {
    for (const path of ['/health', '/health/live', '/health/ready']) {
      const res = await request(t.http).get(path).expect(200);
      expect(res.body.status).toBe('ok');
    }
    const res = await request(t.http).get('/health').expect(200);
    expect(res.body.details.redis.status).toBe('up');
  });
});
