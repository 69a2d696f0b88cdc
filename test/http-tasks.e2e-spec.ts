import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

interface Attempt {
  attempt: number;
  outcome: string;
  started_at: string | null;
  ended_at: string;
  error?: string;
}
interface Task {
  id: string;
  status: string;
  retries: number;
  attempts: number;
  result?: unknown;
  error?: string;
  history?: Attempt[];
}
interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const SECRET = 'e2e-signing-secret-0123456789';

type Verifier = (rawBody: string, headers: IncomingMessage['headers'], secret: string) => boolean;

/** The README's verification recipe ("Verifying a request"), run as written there. */
function readmeVerifier(): Verifier {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('Verifying a request')));
  if (!block) throw new Error('README: no js block after "Verifying a request"');
  return new Function('require', `${block[1]}\nreturn verifyTaskRequest;`)(require) as Verifier;
}

/**
 * http tasks end to end: the worker calls a node:http server of this process on an ephemeral port
 * (HTTP_TASK_ALLOWED_HOSTS lists 127.0.0.1 exactly, so its loopback address may be called).
 */
describe('http tasks', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('http-tasks');
  let t: TestApp;
  let server: Server;
  let base: string;
  /** Requests by path, in arrival order; each path's handler answers by how many came before. */
  const received = new Map<string, Received[]>();
  const routes = new Map<string, (res: ServerResponse, n: number, req: Received) => void>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const got: Received = { method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const list = received.get(path) ?? [];
        list.push(got);
        received.set(path, list);
        const route = routes.get(path);
        if (route) route(res, list.length, got);
        else res.writeHead(404).end('no such route');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '4', HTTP_TASK_ALLOWED_HOSTS: '127.0.0.1', HTTP_TASK_SIGNING_SECRET: SECRET });
  });
  afterAll(async () => {
    await t?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const backoff = { type: 'fixed', delay_ms: 50 };
  const submit = async (payload: object | string, extra: object = {}): Promise<Task> =>
    (await request(t.http).post('/tasks').send({ type: 'http', payload, backoff, ...extra }).expect(201)).body as Task;
  const finished = (id: string): Promise<Task> =>
    waitFor(
      async () => {
        const task = (await request(t.http).get(`/tasks/${id}`).expect(200)).body as Task;
        return task.status === 'completed' || task.status === 'failed' ? task : undefined;
      },
      { timeoutMs: 15_000, what: `task ${id} to finish` },
    );

  it('2xx completes with the status, the kept headers and the JSON body; the request is signed as the README shows', async () => {
    routes.set('/ok', (res) => res.writeHead(201, { 'content-type': 'application/json', 'x-secret': 'not kept' }).end('{"accepted":true}'));
    const task = await submit({ url: `${base}/ok`, body: { order: 42 }, headers: { 'X-Custom': 'yes' } });
    const done = await finished(task.id);
    expect(done).toMatchObject({ status: 'completed', attempts: 1, retries: 0 });
    expect(done.result).toEqual({ status: 201, headers: { 'content-type': 'application/json' }, body: { accepted: true } });

    const [req] = received.get('/ok') ?? [];
    expect(req).toMatchObject({ method: 'POST', body: '{"order":42}' });
    expect(req.headers).toMatchObject({ 'x-task-id': task.id, 'x-task-attempt': '1', 'x-custom': 'yes', 'content-type': 'application/json' });
    expect(Math.abs(Number(req.headers['x-task-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    const verify = readmeVerifier();
    expect(verify(req.body, req.headers, SECRET)).toBe(true);
    expect(verify(req.body, req.headers, 'another-secret-0123456789')).toBe(false);
    expect(verify(`${req.body} `, req.headers, SECRET)).toBe(false);
    expect(verify(req.body, { ...req.headers, 'x-task-timestamp': String(Number(req.headers['x-task-timestamp']) - 301) }, SECRET)).toBe(false);
  });

  it('500 then 200: retried with backoff, the attempt header counts up', async () => {
    routes.set('/flaky', (res, n) => (n === 1 ? res.writeHead(500).end('boom') : res.end('fine')));
    // The payload may also be the object as JSON text.
    const done = await finished((await submit(JSON.stringify({ url: `${base}/flaky`, method: 'PUT' }))).id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, retries: 1 });
    expect(done.history?.map((a) => [a.outcome, a.error])).toEqual([
      ['retry', 'HTTP 500: boom'],
      ['completed', undefined],
    ]);
    expect(received.get('/flaky')?.map((r) => [r.method, r.headers['x-task-attempt']])).toEqual([
      ['PUT', '1'],
      ['PUT', '2'],
    ]);
  });

  it('429 with Retry-After: the next attempt starts no sooner than asked (by the recorded attempt times)', async () => {
    routes.set('/limited', (res, n) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.end('ok')));
    const done = await finished((await submit({ url: `${base}/limited` })).id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2 });
    const [first, second] = done.history ?? [];
    expect(first).toMatchObject({ outcome: 'retry', error: 'HTTP 429 (Retry-After 1 s)' });
    // The backoff alone would wait 50 ms; Retry-After asks for 1 s. Both times are Redis' clock.
    expect(Date.parse(second.started_at as string) - Date.parse(first.ended_at)).toBeGreaterThanOrEqual(1000);
  });

  it('404 fails without retry, naming the status', async () => {
    const done = await finished((await submit({ url: `${base}/missing` }, { max_retry: 3 })).id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, retries: 0, error: 'HTTP 404: no such route' });
    expect(received.get('/missing')).toHaveLength(1);
  });

  it('a timeout is retried', async () => {
    routes.set('/slow', (res, n) => {
      if (n > 1) res.end('in time');
      // the first request is never answered
    });
    const done = await finished((await submit({ url: `${base}/slow`, timeout_ms: 200 })).id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2 });
    expect(done.history?.[0]).toMatchObject({ outcome: 'retry', error: 'timeout after 200 ms (payload timeout_ms)' });
  });

  it('a redirect to a host not allowed fails without retry (refused before connecting); an allowed one is followed', async () => {
    routes.set('/away', (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    routes.set('/hop', (res) => res.writeHead(307, { location: '/ok-after-hop' }).end());
    routes.set('/ok-after-hop', (res) => res.end('landed'));
    const refused = await finished((await submit({ url: `${base}/away` }, { max_retry: 3 })).id);
    expect(refused).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'redirect to http://169.254.169.254 refused: host "169.254.169.254" is not allowed by HTTP_TASK_ALLOWED_HOSTS',
    });
    const followed = await finished((await submit({ url: `${base}/hop` })).id);
    expect(followed.result).toEqual({
      status: 200,
      headers: { 'content-length': '6' },
      body: 'landed',
      url: `${base}/ok-after-hop`,
    });
  });

  it.each([
    [{ url: 'http://evil.example.com/hook' }, 'payload: url: host "evil.example.com" is not allowed by HTTP_TASK_ALLOWED_HOSTS'],
    [{ url: 'http://localhost:1/hook' }, 'payload: url: host "localhost" is not allowed by HTTP_TASK_ALLOWED_HOSTS'],
    [{ url: 'gopher://127.0.0.1/' }, 'payload: url scheme must be http or https (got "gopher")'],
    [{ url: `http://127.0.0.1/`, method: 'TRACE' }, 'payload: method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    [{ url: `http://127.0.0.1/`, headers: { 'x-a': 'a\nb' } }, 'payload: headers.x-a must be at most 8192 characters without control characters (CR, LF, NUL)'],
    [{ url: `http://127.0.0.1/`, timeout_ms: 0 }, 'payload: timeout_ms must be an integer from 1 to 600000'],
    ['not json', 'payload: must be a JSON object like {"url": "https://example.com/hook"}'],
    [[1], 'payload: must be a JSON object like {"url": "https://example.com/hook"}'],
  ])('rejects %j at submit with 400', async (payload, message) => {
    const res = await request(t.http).post('/tasks').send({ type: 'http', payload }).expect(400);
    expect(res.body.message).toBe(message);
  });

  it('with HTTP_TASK_ALLOWED_HOSTS empty the type is disabled: 400 saying so', async () => {
    const api = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
    try {
      const res = await request(api.http).post('/tasks').send({ type: 'http', payload: { url: `${base}/ok` } }).expect(400);
      expect(res.body.message).toBe('payload: http tasks are disabled: HTTP_TASK_ALLOWED_HOSTS is empty');
    } finally {
      await api.close();
    }
  });
});
