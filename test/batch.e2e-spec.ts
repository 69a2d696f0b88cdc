import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

describe('POST /tasks/batch', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('batch');
  let t: TestApp;
  // Every pending task is in its queue zset (s:pending holds only delayed and retrying ones).
  const pendingCount = () => redis.zcard(`${prefix}:{default}:queue`);

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', BODY_LIMIT: '2mb' });
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('creates every task of the batch and returns them in order', async () => {
    const bodies = [
      { type: 'echo', payload: 'a' },
      { type: 'sum', payload: '[1, 2]', max_retry: 0 },
      { type: 'reverse' },
    ];
    const res = await request(t.http).post('/tasks/batch').send(bodies).expect(201);
    expect(res.body).toHaveLength(3);
    expect(res.body.map((x: { type: string }) => x.type)).toEqual(['echo', 'sum', 'reverse']);
    expect(res.body[1]).toMatchObject({ status: 'pending', max_retry: 0, payload: '[1, 2]' });
    expect(res.body[2]).toMatchObject({ payload: '', max_retry: 3 });
    for (const task of res.body) await request(t.http).get(`/tasks/${task.id}`).expect(200);
  });

  it('accepts 1000 tasks in one request', async () => {
    const before = await pendingCount();
    const bodies = Array.from({ length: 1000 }, (_, i) => ({ type: 'echo', payload: `n${i}` }));
    const res = await request(t.http).post('/tasks/batch').send(bodies).expect(201);
    expect(new Set(res.body.map((x: { id: string }) => x.id)).size).toBe(1000);
    expect(await pendingCount()).toBe(before + 1000);
  });

  it.each([
    ['an empty array', [], /1 to 1000 tasks \(got 0\)/],
    ['1001 tasks', Array.from({ length: 1001 }, () => ({ type: 'echo' })), /got 1001/],
    ['an object instead of an array', { type: 'echo' }, /JSON array/],
    ['a non-object element', [{ type: 'echo' }, 'echo'], /\[1\] must be a JSON object/],
    ['a bad field in one element', [{ type: 'echo' }, { type: 'echo', max_retry: 99 }], /\[1\] max_retry must be between 0 and 25/],
    ['an unknown field in one element', [{ type: 'echo', when: 'now' }], /\[0\] property when should not exist/],
    ['an unknown type in one element', [{ type: 'echo' }, { type: 'nope' }], /\[1\] unknown task type "nope"/],
    ['a bad sum payload in one element', [{ type: 'sum', payload: '[1]' }, { type: 'sum', payload: 'x' }], /\[1\] payload: sum payload/],
    ['__proto__ in one element', JSON.parse('[{"type":"echo"},{"type":"echo","__proto__":{}}]'), /^no task was created: \[1\] property __proto__ should not exist$/],
  ])('rejects %s with 400 and stores none of the batch', async (_name, body, message) => {
    const before = await pendingCount();
    const res = await request(t.http).post('/tasks/batch').send(body as object).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toMatch(message);
    expect(await pendingCount()).toBe(before);
  });

  const KNOWN = 'known types: echo, flaky, http, reverse, slow, sum';
  it.each([
    ['a field rule and an unknown type', [{ type: 'x' }, { type: 'echo', max_retry: 26 }], `[0] unknown task type "x"; ${KNOWN}; [1] max_retry must be between 0 and 25`],
    ['elements that are no objects', [5, 'x', []], '[0] must be a JSON object; [1] must be a JSON object; [2] must be a JSON object'],
    [
      'a shape, a field rule, a type and a payload',
      [{ type: 'echo' }, null, { type: 'nope', max_retry: -1 }, { type: 'sum', payload: 'x' }, { type: 'echo', urgency: 1 }],
      `[1] must be a JSON object; [2] max_retry must be between 0 and 25; [2] unknown task type "nope"; ${KNOWN}; [3] payload: sum payload must be a JSON array of numbers, e.g. "[1, 2, 5]"; [4] property urgency should not exist`,
    ],
    ['a one-element batch', [{ type: 'nope' }], `[0] unknown task type "nope"; ${KNOWN}`],
    ['a bad type field (not checked as a type)', [{ type: 42 }, { type: 'nope' }], `[0] type must be a string; [1] unknown task type "nope"; ${KNOWN}`],
  ])('names every bad element, with one prefix: %s', async (_name, body, problems) => {
    const before = await pendingCount();
    const res = await request(t.http).post('/tasks/batch').send(body).expect(400);
    expect(res.body.message).toBe(`no task was created: ${problems}`);
    expect(await pendingCount()).toBe(before);
  });

  it('a payload over MAX_PAYLOAD_BYTES makes it a 413 that names the other bad elements too', async () => {
    const big = 'x'.repeat(600_000);
    const res = await request(t.http)
      .post('/tasks/batch')
      .send([{ type: 'echo', max_retry: 26 }, { type: 'echo', payload: big }, { type: 'nope' }])
      .expect(413);
    expect(res.body.message).toBe(
      `no task was created: [0] max_retry must be between 0 and 25; [1] payload is 600000 bytes; the limit is 524288 bytes (MAX_PAYLOAD_BYTES); [2] unknown task type "nope"; ${KNOWN}`,
    );
  });

  it.each(['null', '5', 'true', '"str"', '{"type":"echo"}'])('answers the JSON value %s with "body must be a JSON array of tasks"', async (json) => {
    const res = await request(t.http).post('/tasks/batch').set('Content-Type', 'application/json').send(json).expect(400);
    expect(res.body.message).toBe('body must be a JSON array of tasks');
  });

  it('answers an empty body with "request body is empty"', async () => {
    const res = await request(t.http).post('/tasks/batch').set('Content-Type', 'application/json').expect(400);
    expect(res.body.message).toBe('request body is empty: send a JSON array of tasks');
  });

  it('requires a JSON content type', async () => {
    const res = await request(t.http).post('/tasks/batch').set('Content-Type', 'text/plain').send('[]').expect(400);
    expect(res.body.message).toMatch(/Content-Type must be application\/json/);
  });
});
