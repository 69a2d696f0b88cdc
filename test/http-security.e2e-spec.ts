import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { openEventStream } from './support/sse';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** API keys (API_KEYS, METRICS_API_KEY), helmet headers and CORS, on the app as main.ts configures it. */
describe('HTTP security', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('security');
  const KEY_A = 'key-a-0123456789abcdef';
  const KEY_B = 'key-b-0123456789abcdef';
  const METRICS_KEY = 'metrics-0123456789abcdef';
  const WRONG_KEY = 'wrong-key-0123456789abcdef';
  const ORIGIN = 'https://app.example.com';
  /** Every log line of the secured app (LOG_LEVEL=info). */
  const logLines: string[] = [];
  // Created first: nestjs-pino's out-of-request logger is the first one made in this process.
  let secured: TestApp;
  let open: TestApp;

  beforeAll(async () => {
    secured = await createTestApp(
      {
        QUEUE_PREFIX: prefix,
        APP_ROLE: 'api',
        API_KEYS: `${KEY_A},${KEY_B}`,
        METRICS_API_KEY: METRICS_KEY,
        CORS_ORIGINS: ORIGIN,
        LOG_LEVEL: 'info',
      },
      { logStream: { write: (line: string) => void logLines.push(line) } },
    );
    open = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
  });
  afterAll(async () => {
    await secured?.close();
    await open?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  describe('API keys', () => {
    it('a request without a key is refused: 401, the JSON error body and WWW-Authenticate: Bearer', async () => {
      const res = await request(secured.http).get('/tasks').expect(401);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="taskqueue"');
      expect(res.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'an API key is required (Authorization: Bearer <key> or X-API-Key)',
      });
    });

    it.each([
      ['a wrong bearer key', { Authorization: `Bearer ${WRONG_KEY}` }],
      ['a wrong X-API-Key', { 'X-API-Key': WRONG_KEY }],
      ['a configured key cut short', { 'X-API-Key': KEY_A.slice(0, -1) }],
      ['a configured key with a character more', { 'X-API-Key': `${KEY_A}x` }],
      ['the metrics key on the API', { Authorization: `Bearer ${METRICS_KEY}` }],
    ])('%s is refused with 401 and error="invalid_token"', async (_what, headers) => {
      const res = await request(secured.http).get('/tasks').set(headers).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="taskqueue", error="invalid_token"');
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'the API key is not valid' });
    });

    it('a key under another scheme than Bearer counts as no key', async () => {
      const res = await request(secured.http).get('/tasks').set('Authorization', `Basic ${KEY_A}`).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="taskqueue"');
    });

    it.each([
      ['Authorization: Bearer (first key)', { Authorization: `Bearer ${KEY_A}` }],
      ['Authorization: bearer (scheme in any case, second key)', { Authorization: `bearer ${KEY_B}` }],
      ['X-API-Key (first key)', { 'X-API-Key': KEY_A }],
      ['X-API-Key (second key)', { 'X-API-Key': KEY_B }],
      ['a wrong bearer key with a right X-API-Key', { Authorization: `Bearer ${WRONG_KEY}`, 'X-API-Key': KEY_B }],
    ])('%s is accepted', async (_what, headers) => {
      await request(secured.http).get('/tasks').set(headers).expect(200);
    });

    it('checks the key before the body is read: a bad body without a key is a 401, with a key a 400', async () => {
      const bad = '{"type": ';
      await request(secured.http).post('/tasks').set('Content-Type', 'application/json').send(bad).expect(401);
      await request(secured.http).post('/tasks').set('X-API-Key', KEY_A).set('Content-Type', 'application/json').send(bad).expect(400);
    });

    it.each(['/health', '/health/live', '/health/ready'])('%s stays open without a key', async (path) => {
      await request(secured.http).get(path).expect(200);
    });

    it('/healthz is not a health route: it needs a key', async () => {
      await request(secured.http).get('/healthz').expect(401);
    });

    it('/docs follows API_KEYS, whether or not a route serves it', async () => {
      await request(secured.http).get('/docs').expect(401);
      await request(secured.http).get('/docs-json').expect(401);
      const res = await request(secured.http).get('/docs-json').set('X-API-Key', KEY_A);
      expect(res.status).not.toBe(401);
    });

    it('/metrics takes METRICS_API_KEY alone, in any case and with a trailing slash', async () => {
      for (const path of ['/metrics', '/METRICS', '/metrics/']) {
        await request(secured.http).get(path).expect(401);
        await request(secured.http).get(path).set('X-API-Key', KEY_A).expect(401);
        const res = await request(secured.http).get(path).set('Authorization', `Bearer ${METRICS_KEY}`);
        expect(res.status).not.toBe(401);
      }
    });

    it('no key is needed when API_KEYS is not set', async () => {
      await request(open.http).get('/tasks').expect(200);
    });

    it('an unknown route without a key is a 401, not a 404 (routes are not revealed)', async () => {
      await request(secured.http).get('/no-such-route').expect(401);
      await request(secured.http).get('/no-such-route').set('X-API-Key', KEY_A).expect(404);
    });
  });

  describe('keys are never logged', () => {
    it('neither an accepted nor a refused key appears in the log at info level', async () => {
      logLines.splice(0);
      const { body } = await request(secured.http)
        .post('/tasks')
        .set('Authorization', `Bearer ${KEY_A}`)
        .set('X-API-Key', KEY_B)
        .send({ type: 'echo' })
        .expect(201);
      const path = `/tasks/${body.id}`;
      await request(secured.http).get(path).set('X-API-Key', KEY_A).expect(200);
      await request(secured.http).get(path).set('Authorization', `Bearer ${WRONG_KEY}`).set('X-API-Key', WRONG_KEY).expect(401);
      await request(secured.http).get(path).expect(401);
      // The capture works: the request lines of the accepted requests and the refusals are there.
      const parsed = () => logLines.map((l) => JSON.parse(l) as { msg: string; path?: string; req?: { url: string }; res?: { statusCode: number } });
      await waitFor(() => parsed().some((l) => l.req?.url === path && l.res?.statusCode === 200) || undefined, { what: 'the GET request line' });
      expect(parsed().some((l) => l.req?.url === '/tasks' && l.res?.statusCode === 201)).toBe(true);
      const refusals = parsed().filter((l) => l.msg.startsWith('request refused'));
      expect(refusals.map((l) => [l.msg, l.path])).toEqual([
        ['request refused: API key wrong', path],
        ['request refused: API key missing', path],
      ]);
      const all = logLines.join('');
      for (const key of [KEY_A, KEY_B, WRONG_KEY]) expect(all).not.toContain(key);
    });
  });

  describe('helmet', () => {
    const expectHelmetHeaders = (headers: Record<string, string>) => {
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      // Served over plain HTTP, this directive would break /docs in a browser on any host but localhost.
      expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['x-powered-by']).toBeUndefined();
    };

    it('sets its headers on JSON answers, which stay JSON', async () => {
      const res = await request(open.http).post('/tasks').send({ type: 'echo' }).expect(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ type: 'echo', status: 'pending' });
      expectHelmetHeaders(res.headers);
    });

    it('sets its headers on 401s and health answers', async () => {
      expectHelmetHeaders((await request(secured.http).get('/tasks').expect(401)).headers);
      expectHelmetHeaders((await request(secured.http).get('/health/live').expect(200)).headers);
    });

    it('GET /tasks/{id}/events still streams, with the key, and is refused without it', async () => {
      const { body } = await request(secured.http).post('/tasks').set('X-API-Key', KEY_A).send({ type: 'echo' }).expect(201);
      await secured.app.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${(secured.app.getHttpServer().address() as AddressInfo).port}`;
      const refused = await openEventStream(`${base}/tasks/${body.id}/events`);
      try {
        await refused.ended;
        expect(refused.response.statusCode).toBe(401);
      } finally {
        refused.close();
      }
      const stream = await openEventStream(`${base}/tasks/${body.id}/events`, { Authorization: `Bearer ${KEY_B}` });
      try {
        expect(stream.response.statusCode).toBe(200);
        expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
        expect(stream.response.headers['x-content-type-options']).toBe('nosniff');
        const [first] = await stream.waitForEvents(1);
        expect(first.event).toBe('pending');
        expect(JSON.parse(first.data)).toMatchObject({ id: body.id, status: 'pending' });
      } finally {
        stream.close();
      }
    });
  });

  describe('CORS', () => {
    it('is off by default: no Access-Control headers, also on a preflight', async () => {
      const res = await request(open.http).get('/tasks').set('Origin', ORIGIN).expect(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await request(open.http).options('/tasks').set('Origin', ORIGIN).set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    });

    it('allows an origin of CORS_ORIGINS and exposes the API headers', async () => {
      const res = await request(secured.http).get('/tasks').set('Origin', ORIGIN).set('X-API-Key', KEY_A).expect(200);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(res.headers['access-control-expose-headers']).toContain('Link');
      expect(res.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
      expect(res.headers.vary).toMatch(/Origin/);
    });

    it('answers the preflight of an allowed origin without a key (browsers send none)', async () => {
      const res = await request(secured.http)
        .options('/tasks')
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'x-api-key,content-type')
        .expect(204);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(res.headers['access-control-allow-headers']).toBe('x-api-key,content-type');
    });

    it('gives another origin no Access-Control-Allow-Origin', async () => {
      const res = await request(secured.http).get('/tasks').set('Origin', 'https://evil.example.com').set('X-API-Key', KEY_A).expect(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});
