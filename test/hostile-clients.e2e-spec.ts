import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { delay } from './support/wait';

/**
 * Size limits and abusive clients against the real service process (src/main.ts), on loopback, with
 * short server timeouts so the slow clients are cut off quickly. Every socket this suite opens is
 * closed by it, every wait is bounded.
 */
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/**
 * How long this suite waits for the server to cut off a connection before it gives up and closes it
 * itself: far above the server's timeouts (plus Node's once-a-second sweep), so only a server that
 * never cuts off is caught, however busy the machine. How long the cut-offs took is printed.
 */
const GUARD_MS = 10_000;
/** "Answered, not hung": a bound to stop waiting, not a latency target. */
const HANG_MS = 10_000;

interface RawResult {
  /** Everything the server sent. */
  text: string;
  /** ms from connect to the connection closing. */
  closedAfterMs: number;
  /** Whether the server closed the connection, or this suite's guard after GUARD_MS. */
  closedBy: 'server' | 'guard';
}

/** Opens a raw connection and resolves once it is closed (by the server, or after `maxMs` by us). */
function rawConnection(port: number, maxMs: number, onConnect: (s: net.Socket) => void): Promise<RawResult & { socket: net.Socket }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let closedBy: RawResult['closedBy'] = 'server';
    const guard = setTimeout(() => {
      closedBy = 'guard';
      socket.destroy();
    }, maxMs);
    socket.on('connect', () => onConnect(socket));
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ text, closedAfterMs: Date.now() - started, closedBy, socket });
    });
  });
}

const CLK_TCK = 100;
/** CPU seconds (user + system) a process has used so far, from /proc: work done, whatever the load. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * One request on a raw socket; resolves once the server closes the connection (the requests say
 * `Connection: close`, or are refused). The client does not half-close: Node's server answers a FIN
 * by closing at once, dropping answers still being computed.
 */
const rawRequest = (port: number, bytes: string | Buffer, maxMs = GUARD_MS) => rawConnection(port, maxMs, (s) => s.write(bytes));

const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): unknown => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('hostile clients (real process, loopback)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('hostile');
  let svc: ServiceProcess;
  let port: number;
  const open: net.Socket[] = [];

  beforeAll(async () => {
    svc = await startService({
      QUEUE_PREFIX: prefix,
      APP_ROLE: 'api',
      BODY_LIMIT: '1mb',
      // The payload limit as large as the body limit, so the cases at BODY_LIMIT test the body limit.
      MAX_PAYLOAD_BYTES: String(1024 * 1024),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
    });
    port = Number(new URL(svc.url).port);
  }, 60_000);

  afterEach(() => {
    for (const s of open.splice(0)) s.destroy();
  });

  afterAll(async () => {
    await stopService(svc);
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const url = (path: string) => `${svc.url}${path}`;
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t = Date.now();
    const value = await fn();
    return [value, Date.now() - t];
  };
  const expectHealthy = async () => {
    const res = await fetch(url('/health/ready'));
    expect(res.status).toBe(200);
    expect(svc.child.exitCode).toBeNull();
  };
  const postJson = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(HANG_MS) });

  describe('size limits', () => {
    it('a body over BODY_LIMIT gets 413 JSON, declared by Content-Length or streamed chunked', async () => {
      const big = `{"type":"echo","payload":"${'x'.repeat(1024 * 1024)}"}`;
      const res = await postJson('/tasks', big);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'body is larger than the limit (BODY_LIMIT)' });

      // Chunked, no Content-Length: the limit applies while reading.
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(url('/tasks'), { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write('{"type":"echo","payload":"');
        for (let i = 0; i < 20; i++) req.write('y'.repeat(64 * 1024));
        req.end('"}');
      });
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.body)).toMatchObject({ statusCode: 413 });

      // Just under the limit is accepted.
      const fits = `{"type":"echo","payload":"${'x'.repeat(1024 * 1024 - 40)}"}`;
      expect((await postJson('/tasks', fits)).status).toBe(201);
      await expectHealthy();
    });

    it('a gzip bomb (16 kB that inflates to 16 MB) gets 413 (not a hang, not a crash); a body that does not decompress gets 400', async () => {
      const bomb = gzipSync(Buffer.from(`{"type":"echo","payload":"${'0'.repeat(16 * 1024 * 1024)}"}`));
      expect(bomb.length).toBeLessThan(32 * 1024);
      const cpuBefore = cpuSeconds(svc.child.pid!);
      const [res, ms] = await timed(() => postJson('/tasks', bomb, { 'content-encoding': 'gzip' }));
      const cpu = cpuSeconds(svc.child.pid!) - cpuBefore;
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ statusCode: 413 });
      process.stdout.write(`gzip bomb: 413 in ${ms} ms, ${cpu.toFixed(2)} CPU-s of the service\n`);

      // Regression (fuzz): zlib errors were a 500.
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const bad = await postJson('/tasks', '{"type":"echo"}', { 'content-encoding': encoding });
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^body could not be read: /) });
      }
      const unknown = await postJson('/tasks', '{"type":"echo"}', { 'content-encoding': 'x-bogus' });
      expect(unknown.status).toBe(415);
      await expectHealthy();
    });

    it('headers over 16 KiB get 431 and close that connection only; the server keeps serving', async () => {
      const huge = await rawRequest(port, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
      expect(statusOf(huge.text)).toBe(431);
      // Node counts the bytes of names and values: 1000 headers of 30 bytes are over the limit.
      const many = Array.from({ length: 1000 }, (_, i) => `X-Header-${String(i).padStart(5, '0')}: ${'v'.repeat(15)}`).join('\r\n');
      expect(statusOf((await rawRequest(port, `GET /health/live HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`)).text)).toBe(431);
      const longUrl = await rawRequest(port, `GET /tasks/${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(statusOf(longUrl.text)).toBe(431);
      await expectHealthy();
    });

    it('regressions found by the fuzz: deep and wide JSON get a quick 400, /tasks/BATCH is the batch route', async () => {
      const deep = await postJson('/tasks', `${'['.repeat(50_000)}${']'.repeat(50_000)}`);
      expect(deep.status).toBe(400);
      expect(await deep.json()).toMatchObject({ message: 'body is nested too deeply (more than 32 levels)' });
      const deepField = await postJson('/tasks', `{"type":"echo","payload":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);
      expect(deepField.status).toBe(400);

      // 1 MB of keys used to block the event loop for ~5 s (quadratic copy in class-transformer). The
      // service's CPU time for the request is the measure: it counts the work, not the machine's load.
      // Linear handling costs a few tenths of a second; the quadratic copy cost seconds.
      const keys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',');
      for (const body of [`{"type":"echo",${keys(90_000)}}`, `{"type":"echo","payload":{${keys(90_000)}}}`]) {
        const cpuBefore = cpuSeconds(svc.child.pid!);
        const sent = Date.now();
        const slow = postJson('/tasks', body).then((r) => [r, Date.now() - sent] as const);
        await delay(20);
        const [health, healthMs] = await timed(() => fetch(url('/health/live'), { signal: AbortSignal.timeout(HANG_MS) }));
        const [res, ms] = await slow;
        const cpu = cpuSeconds(svc.child.pid!) - cpuBefore;
        expect(res.status).toBe(400);
        expect(health.status).toBe(200);
        process.stdout.write(`1 MB of keys: 400 in ${ms} ms, ${cpu.toFixed(2)} CPU-s of the service; /health/live meanwhile ${healthMs} ms\n`);
        expect(cpu).toBeLessThan(2);
      }

      // The batch route matches case-insensitively and with a trailing slash: its body check must too.
      for (const path of ['/tasks/BATCH', '/tasks/batch/', '/Tasks/Batch/']) {
        const object = await postJson(path, '{"type":"echo"}');
        expect(object.status).toBe(400);
        expect(await object.json()).toMatchObject({ message: 'body must be a JSON array of tasks' });
        const array = await postJson(path, '[{"type":"echo"}]');
        expect(array.status).toBe(201);
      }
      expect((await postJson('/TASKS/', '{"type":"echo"}')).status).toBe(201);
      await expectHealthy();
    });

    it('an empty body gets one clear message on both routes, however it is sent; a Content-Type message only for a wrong one', async () => {
      const send = async (path: string, headers: string, body = '') => {
        const res = await rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n${body}`);
        return [statusOf(res.text), (bodyOf(res.text) as { message: string }).message] as const;
      };
      const json = 'Content-Type: application/json\r\n';
      for (const [path, wanted] of [['/tasks', 'a JSON object'], ['/tasks/batch', 'a JSON array of tasks']]) {
        const empty = [400, `request body is empty: send ${wanted}`];
        // curl -X POST -H 'Content-Type: application/json' (no body, no Content-Length)
        expect(await send(path, json)).toEqual(empty);
        // curl -d '' (Content-Length: 0), a body of whitespace, an empty chunked body
        expect(await send(path, `${json}Content-Length: 0\r\n`)).toEqual(empty);
        expect(await send(path, `${json}Content-Length: 3\r\n`, ' \r\n')).toEqual(empty);
        expect(await send(path, `${json}Transfer-Encoding: chunked\r\n`, '0\r\n\r\n')).toEqual(empty);
        expect(await send(path, '')).toEqual(empty);
        expect(await send(path, 'Content-Type: text/plain\r\nContent-Length: 2\r\n', '{}')).toEqual([400, 'Content-Type must be application/json (got "text/plain")']);
        expect(await send(path, 'Content-Length: 2\r\n', '{}')).toEqual([400, 'Content-Type must be application/json (got none)']);
      }
    });
  });

  describe('slow and abusive clients', () => {
    it(`slow-loris: headers sent a byte at a time are cut off after HTTP_HEADERS_TIMEOUT_MS (${HEADERS_TIMEOUT_MS} ms), and other clients are served meanwhile`, async () => {
      const LORIS = 50;
      const trickle = `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(1000)}`;
      let connected = 0;
      let closed = 0;
      let allConnected!: () => void;
      const whenAllConnected = new Promise<void>((resolve) => (allConnected = resolve));
      const lorises = Array.from({ length: LORIS }, () =>
        rawConnection(port, GUARD_MS, (s) => {
          open.push(s);
          if (++connected === LORIS) allConnected();
          s.on('close', () => (closed += 1));
          let i = 0;
          const timer = setInterval(() => {
            if (s.destroyed || i >= trickle.length) return clearInterval(timer);
            s.write(trickle[i++]);
          }, 100);
          s.on('close', () => clearInterval(timer));
        }),
      );
      // While they trickle, a normal client is served: the first answer comes while every one of them
      // is still connected (the server cuts them off only after HTTP_HEADERS_TIMEOUT_MS).
      await whenAllConnected;
      const latencies: number[] = [];
      const openAtAnswer: number[] = [];
      for (let i = 0; i < 10; i++) {
        const [res, ms] = await timed(() => fetch(url('/health/live'), { signal: AbortSignal.timeout(HANG_MS) }));
        openAtAnswer.push(LORIS - closed);
        expect(res.status).toBe(200);
        latencies.push(ms);
        await delay(100);
      }
      expect(openAtAnswer[0]).toBe(LORIS);
      const results = await Promise.all(lorises);
      const closedAfter = results.map((r) => r.closedAfterMs);
      // Cut off by the server (not by our guard), and not before the timeout.
      expect(results.filter((r) => r.closedBy === 'guard')).toHaveLength(0);
      expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
      // Node answers 408 before closing; nothing from the app (the request never reached it).
      for (const r of results) expect(r.text === '' || statusOf(r.text) === 408).toBe(true);
      process.stdout.write(
        `slow-loris: ${LORIS} connections closed after ${Math.min(...closedAfter)}..${Math.max(...closedAfter)} ms; ` +
          `health latency meanwhile max ${Math.max(...latencies)} ms\n`,
      );
      await expectHealthy();
    }, 20_000);

    it(`a body sent a byte at a time is cut off after HTTP_REQUEST_TIMEOUT_MS (${REQUEST_TIMEOUT_MS} ms)`, async () => {
      const body = '{"type":"echo","payload":"slow"}';
      const result = await rawConnection(port, GUARD_MS, (s) => {
        open.push(s);
        s.write(`POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n`);
        let i = 0;
        const timer = setInterval(() => {
          if (s.destroyed) return clearInterval(timer);
          s.write(body[i++ % body.length]);
        }, 100);
        s.on('close', () => clearInterval(timer));
      });
      expect(result.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(result.closedBy).toBe('server');
      process.stdout.write(`slow body: closed by the server after ${result.closedAfterMs} ms\n`);
      expect([0, 408]).toContain(statusOf(result.text));
      // Nothing was created from the partial body.
      const list = await fetch(url('/tasks?limit=1000'));
      expect(((await list.json()) as Array<{ payload: string }>).some((t) => t.payload === 'slow')).toBe(false);
      await expectHealthy();
    }, 15_000);

    it('an idle connection that never sends a byte is closed too', async () => {
      const idle = await rawConnection(port, GUARD_MS, (s) => open.push(s));
      expect(idle.closedBy).toBe('server');
      process.stdout.write(`idle connection: closed by the server after ${idle.closedAfterMs} ms\n`);
    }, 15_000);

    it('300 connections open at once, idle, half-sent or sending real requests, do not take the service down', async () => {
      const N = 300;
      // 100 idle sockets and 100 with half a request, held open while 100 more send real requests.
      const held = Array.from({ length: 200 }, (_, i) =>
        rawConnection(port, GUARD_MS, (s) => {
          open.push(s);
          if (i % 2 === 1) s.write('POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
        }),
      );
      await delay(100);
      const [answers, ms] = await timed(() =>
        Promise.all(
          Array.from({ length: N - 200 }, (_, i) =>
            rawRequest(
              port,
              i % 2 === 0
                ? 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
                : `POST /tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n{"type":"echo","payload":"c"}`,
            ),
          ),
        ),
      );
      const statuses = answers.map((a) => statusOf(a.text));
      expect(statuses.filter((s) => s === 200)).toHaveLength(50);
      expect(statuses.filter((s) => s === 201)).toHaveLength(50);
      for (const a of answers.filter((x) => statusOf(x.text) === 201)) expect(bodyOf(a.text)).toMatchObject({ status: 'pending' });
      await expectHealthy();
      // The held sockets are closed by the server's timeouts, not left to pile up.
      const closed = await Promise.all(held);
      expect(closed.filter((c) => c.closedBy === 'guard')).toHaveLength(0);
      process.stdout.write(`connections: ${N} at once; 100 real requests answered in ${ms} ms; held sockets closed by the server\n`);

      // And then 300 concurrent keep-alive clients, each with 3 requests.
      const agent = new http.Agent({ keepAlive: true, maxSockets: N });
      const get = () =>
        new Promise<number>((resolve, reject) => {
          http
            .get(url('/health/live'), { agent }, (r) => {
              r.resume();
              r.on('end', () => resolve(r.statusCode ?? 0));
            })
            .on('error', reject);
        });
      const [codes, burstMs] = await timed(() => Promise.all(Array.from({ length: N * 3 }, get)));
      agent.destroy();
      expect(codes.every((c) => c === 200)).toBe(true);
      process.stdout.write(`connections: ${N * 3} requests over ${N} keep-alive sockets answered in ${burstMs} ms\n`);
      await expectHealthy();
    }, 30_000);
  });

  it('the process never crashed or logged an unhandled error', () => {
    expect(svc.child.exitCode).toBeNull();
    expect(svc.output()).not.toMatch(/Unhandled|uncaught|FATAL|"level":60/i);
    // 5xx would be logged at level 50 by pino-http; none may appear.
    expect(svc.output()).not.toMatch(/"statusCode":5\d\d/);
  });
});
