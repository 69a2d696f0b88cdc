import { Injectable, Module } from '@nestjs/common';
import request from 'supertest';
import { SOURCE_SIZE } from '../examples/resize-image/resize-image.handler';
import { ResizeImageModule } from '../examples/resize-image/resize-image.module';
import { TaskHandler } from '../src/task-types/task-handler';
import { TaskHandlersModule } from '../src/task-types/task-handlers.module';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { finishedTask } from './support/task-wait';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Answers what it got: payloads and results of a JSON type are any JSON value. */
@Injectable()
@TaskHandler('json-echo')
class JsonEchoHandler implements TaskHandler<unknown, { got: unknown }> {
  async handle(payload: unknown): Promise<{ got: unknown }> {
    return { got: payload };
  }
}

/** Counts its own invocations in progress; each waits until the spec releases it. */
@Injectable()
@TaskHandler('gated', { concurrency: 2 })
class GatedHandler implements TaskHandler<number, number> {
  active = 0;
  maxActive = 0;
  readonly waiting: Array<() => void> = [];

  async handle(payload: number): Promise<number> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } finally {
      this.active -= 1;
    }
    return payload * 2;
  }
}

@Module({ imports: [TaskHandlersModule.forFeature([JsonEchoHandler, GatedHandler])] })
class SpecTypesModule {}

interface Task {
  id: string;
  status: string;
  payload: unknown;
  result?: unknown;
  error?: string;
  max_retry: number;
  timeout_ms?: number;
  backoff?: Record<string, unknown>;
}

describe('custom task types (TaskHandlersModule.forFeature, the resize-image example)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('task-handlers');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(
      { QUEUE_PREFIX: prefix, WORKER_COUNT: '4', MAX_PAYLOAD_BYTES: '4096', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '5000' },
      { imports: [ResizeImageModule, SpecTypesModule] },
    );
  });
  afterAll(async () => {
    // Whatever a failed spec left waiting ends, so the shutdown does not wait for it.
    const gated = t?.app.get(GatedHandler);
    while (gated && gated.waiting.length > 0) gated.waiting.shift()?.();
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const finished = (id: string) => finishedTask<Task>(t.http, id);

  describe('the resize-image example', () => {
    it('takes an object payload, runs with the type defaults, and answers an object result', async () => {
      const payload = { url: 'https://images.example.com/cat.jpg', width: 800, height: 800 };
      const created = await request(t.http).post('/tasks').send({ type: 'resize-image', payload }).expect(201);
      // The type's defaults stand in for what the request left out, and are shown.
      expect(created.body).toMatchObject({
        payload,
        max_retry: 5,
        timeout_ms: 30_000,
        backoff: { type: 'exponential', delay_ms: 2000, max_delay_ms: 60_000, jitter: true },
      });
      const done = await finished(created.body.id);
      expect(done).toMatchObject({ status: 'completed', payload });
      expect(done.result).toEqual({ source: payload.url, width: 800, height: Math.round((800 * SOURCE_SIZE.height) / SOURCE_SIZE.width), attempt: 1 });
    });

    it('the request wins over the type defaults, field by field', async () => {
      const payload = { url: 'https://images.example.com/a.png', width: 10 };
      const created = await request(t.http)
        .post('/tasks')
        .send({ type: 'resize-image', payload, max_retry: 0, timeout_ms: 1234, backoff: { type: 'fixed' } })
        .expect(201);
      // The request's backoff replaces the type's whole: its missing fields take the service defaults.
      expect(created.body).toMatchObject({ max_retry: 0, timeout_ms: 1234, backoff: { type: 'fixed', delay_ms: 100, max_delay_ms: 5000, jitter: false } });
      const fetched = await request(t.http).get(`/tasks/${created.body.id}`).expect(200);
      expect(fetched.body).toMatchObject({ max_retry: 0, timeout_ms: 1234, backoff: { type: 'fixed', delay_ms: 100 } });
    });

    it.each<[string, unknown, string]>([
      ['a negative width', { url: 'https://x.example.com/a.png', width: -1 }, 'payload.width must be a positive integer'],
      ['a fractional width', { url: 'https://x.example.com/a.png', width: 1.5 }, 'payload.width must be a positive integer'],
      ['a width as text', { url: 'https://x.example.com/a.png', width: '80' }, 'payload.width must be a positive integer'],
      ['no url', { width: 5 }, 'payload.url must be an https URL'],
      ['an http url', { url: 'http://x.example.com/a.png', width: 5 }, 'payload.url must be an https URL'],
      ['an unknown fit', { url: 'https://x.example.com/a.png', width: 5, fit: 'stretch' }, 'payload.fit must be one of: contain, cover'],
      ['an unknown field', { url: 'https://x.example.com/a.png', width: 5, quality: 9 }, 'property payload.quality should not exist'],
      ['an array', [1, 2], 'payload must be a JSON object'],
      ['a string', 'https://x.example.com/a.png', 'payload must be a JSON object'],
      ['no payload (null)', undefined, 'payload must be a JSON object'],
    ])('answers 400 naming the field for %s, and stores nothing', async (_what, payload, message) => {
      const res = await request(t.http).post('/tasks').send({ type: 'resize-image', payload }).expect(400);
      expect(res.body.message).toBe(message);
    });

    it('checks every element of a batch, naming its index', async () => {
      const ok = { type: 'resize-image', payload: { url: 'https://x.example.com/a.png', width: 5 } };
      const res = await request(t.http)
        .post('/tasks/batch')
        .send([ok, { type: 'resize-image', payload: { url: 'https://x.example.com/a.png', width: 0 } }])
        .expect(400);
      expect(res.body.message).toBe('no task was created: [1] payload.width must be a positive integer');
    });

    it('a handler NonRetryableError fails the task without retry', async () => {
      const created = await request(t.http).post('/tasks').send({ type: 'resize-image', payload: { url: 'https://x.example.com/logo.svg', width: 5 } }).expect(201);
      expect(await finished(created.body.id)).toMatchObject({ status: 'failed', error: 'vector images are not resized', retries: 0 });
    });
  });

  describe('JSON payloads and results round-trip through the API', () => {
    it.each<[string, unknown]>([
      ['an object', { a: 1, nested: { list: [1, 'two', null], ok: true } }],
      ['an array', [1, 'x', { y: [] }, null]],
      ['null', null],
      ['a number', 42.5],
      ['zero', 0],
      ['a boolean', false],
      ['a string', 'just text'],
      ['a string that looks like JSON', '{"a":1}'],
      ['a string beginning with U+0001 (the storage mark)', '\u0001{"a":1}'],
      ['an object with keys named like Object.prototype members', JSON.parse('{"constructor":1,"toString":"x","__proto__":{"hasOwnProperty":2}}')],
    ])('%s', async (_what, payload) => {
      const created = await request(t.http).post('/tasks').send({ type: 'json-echo', payload }).expect(201);
      expect(created.body.payload).toEqual(payload);
      const done = await finished(created.body.id);
      expect(done).toMatchObject({ status: 'completed' });
      expect(done.payload).toEqual(payload);
      expect(done.result).toEqual({ got: payload });
      // Listings decode it too.
      const page = await request(t.http).get('/tasks?type=json-echo&limit=1000').expect(200);
      expect((page.body as Task[]).find((x) => x.id === created.body.id)?.payload).toEqual(payload);
    });

    it('an absent payload of a JSON type is null (of a demo type, "" as before)', async () => {
      const json = await request(t.http).post('/tasks').send({ type: 'json-echo' }).expect(201);
      expect(json.body.payload).toBeNull();
      expect((await finished(json.body.id)).result).toEqual({ got: null });
      const echo = await request(t.http).post('/tasks').send({ type: 'echo' }).expect(201);
      expect(echo.body.payload).toBe('');
      expect((await finished(echo.body.id)).result).toBe('echo: ');
    });

    it('in a batch', async () => {
      const res = await request(t.http)
        .post('/tasks/batch')
        .send([
          { type: 'json-echo', payload: { n: 1 } },
          { type: 'json-echo', payload: [2] },
          { type: 'echo', payload: 'three' },
        ])
        .expect(201);
      expect((res.body as Task[]).map((x) => x.payload)).toEqual([{ n: 1 }, [2], 'three']);
      const done = await Promise.all((res.body as Task[]).map((x) => finished(x.id)));
      expect(done.map((x) => x.result)).toEqual([{ got: { n: 1 } }, { got: [2] }, 'echo: three']);
    });

    it.each<[string, unknown]>([
      ['an object', { a: 1 }],
      ['a number', 5],
      ['null', null],
      ['an array', ['x']],
    ])('the demo types still take a string only: %s is a 400', async (_what, payload) => {
      const res = await request(t.http).post('/tasks').send({ type: 'echo', payload }).expect(400);
      expect(res.body.message).toBe('payload must be a string');
    });

    it('MAX_PAYLOAD_BYTES counts the JSON text of the payload as stored: 413', async () => {
      const payload = { text: 'é'.repeat(2100) }; // 4200 bytes of UTF-8 in 2100 characters
      const res = await request(t.http).post('/tasks').send({ type: 'json-echo', payload }).expect(413);
      expect(res.body.message).toMatch(/^payload is 42\d\d bytes; the limit is 4096 bytes \(MAX_PAYLOAD_BYTES\)$/);
      await request(t.http).post('/tasks').send({ type: 'json-echo', payload: { text: 'é'.repeat(2000) } }).expect(201);
    });
  });

  it('concurrency: at most 2 gated tasks run at once on 4 workers, as the handler itself counts', async () => {
    const gated = t.app.get(GatedHandler);
    const res = await request(t.http)
      .post('/tasks/batch')
      .send([1, 2, 3, 4, 5, 6].map((n) => ({ type: 'gated', payload: n })))
      .expect(201);
    // Two start; the other four wait, leased, in the pool.
    await waitFor(() => gated.active === 2 || undefined);
    for (let released = 0; released < 6; released += 1) {
      await waitFor(() => gated.waiting.length > 0 || undefined);
      gated.waiting.shift()?.();
    }
    const done = await Promise.all((res.body as Task[]).map((x) => finished(x.id)));
    expect(done.map((x) => x.result)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(gated.maxActive).toBe(2);
  });
});

describe('DEMO_TASK_TYPES=false', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('task-handlers-nodemo');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', DEMO_TASK_TYPES: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it.each(['slow', 'flaky'])('%s is an unknown type: 400', async (type) => {
    const res = await request(t.http).post('/tasks').send({ type }).expect(400);
    expect(res.body.message).toMatch(new RegExp(`^unknown task type "${type}"; known types: `));
    const known = (res.body.message as string).split('known types: ')[1].split(', ');
    expect(known).toEqual(expect.arrayContaining(['echo', 'reverse', 'sum']));
    expect(known).not.toContain('slow');
    expect(known).not.toContain('flaky');
  });

  it('the other built-in types stay', async () => {
    for (const type of ['echo', 'reverse']) await request(t.http).post('/tasks').send({ type, payload: 'x' }).expect(201);
    await request(t.http).post('/tasks').send({ type: 'sum', payload: '[1]' }).expect(201);
  });
});
