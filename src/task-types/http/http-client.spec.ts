import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { NonRetryableError, TaskAbortedError } from '../task-handler';
import { HostPolicy } from './host-policy';
import { BlockedAddressError, DnsLookupAll, HttpTaskClient } from './http-client';
import { HttpTaskSpec } from './http-payload';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One node:http server on an ephemeral port; each test sets the route handler. */
describe('HttpTaskClient', () => {
  let server: Server;
  let port: number;
  let route: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const seen: Seen[] = [];
  const clients: HttpTaskClient[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        route(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    seen.length = 0;
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const clock = { now: () => 1_700_000_000_500 };
  function client(allowed: string[], extra: { lookup?: DnsLookupAll; maxResponseBytes?: number; signingSecret?: string } = {}): HttpTaskClient {
    const c = new HttpTaskClient({ policy: new HostPolicy(allowed), clock, maxResponseBytes: extra.maxResponseBytes ?? 65_536, ...extra });
    clients.push(c);
    return c;
  }
  const spec = (path: string, over: Partial<HttpTaskSpec> = {}): HttpTaskSpec => ({
    url: new URL(`http://127.0.0.1:${port}${path}`),
    method: 'POST',
    headers: {},
    timeoutMs: 5000,
    ...over,
  });
  const meta = { taskId: 'task-1', attempt: 2 };
  const signal = () => new AbortController().signal;
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (err: unknown) => err as Error,
    );

  it('sends the method, headers, body and the X-Task-* headers; the signature verifies as the README shows', async () => {
    route = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    };
    const secret = 'a-shared-secret-of-some-length';
    const response = await client(['127.0.0.1'], { signingSecret: secret }).call(
      spec('/hook?x=1', { headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: '{"n":1}' }),
      meta,
      signal(),
    );
    expect(response).toMatchObject({ status: 200, truncated: false, redirected: false });
    expect(response.body.toString()).toBe('{"ok":true}');
    const [req] = seen;
    expect(req).toMatchObject({ method: 'POST', url: '/hook?x=1', body: '{"n":1}' });
    expect(req.headers).toMatchObject({
      'x-task-id': 'task-1',
      'x-task-attempt': '2',
      'x-task-timestamp': '1700000000',
      authorization: 'Bearer t',
      'content-type': 'application/json',
    });

    // HMAC-SHA256 of "<timestamp>.<body>" (the README's recipe itself runs in test/http-tasks.e2e-spec.ts).
    const verify = (rawBody: string, timestamp: string, header: string): boolean => {
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
      const given = Buffer.from(header);
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    expect(verify(req.body, String(req.headers['x-task-timestamp']), String(req.headers['x-task-signature']))).toBe(true);
    expect(verify(`${req.body} `, String(req.headers['x-task-timestamp']), String(req.headers['x-task-signature']))).toBe(false);
    expect(verify(req.body, '1700000001', String(req.headers['x-task-signature']))).toBe(false);
  });

  it('sends no signature header without a secret', async () => {
    route = (_req, res) => res.end();
    await client(['127.0.0.1']).call(spec('/'), meta, signal());
    expect(seen[0].headers['x-task-signature']).toBeUndefined();
    expect(seen[0].headers['x-task-timestamp']).toBe('1700000000');
  });

  it('keeps at most maxResponseBytes of the body and says it cut it', async () => {
    route = (_req, res) => res.end('x'.repeat(100_000));
    const response = await client(['127.0.0.1'], { maxResponseBytes: 1000 }).call(spec('/big'), meta, signal());
    expect(response.body.length).toBe(1000);
    expect(response.truncated).toBe(true);
    route = (_req, res) => res.end('x'.repeat(1000));
    const exact = await client(['127.0.0.1'], { maxResponseBytes: 1000 }).call(spec('/exact'), meta, signal());
    expect(exact).toMatchObject({ truncated: false });
    expect(exact.body.length).toBe(1000);
  });

  it('resolves with any status: the handler decides what it means', async () => {
    route = (_req, res) => {
      res.statusCode = 503;
      res.end('down');
    };
    await expect(client(['127.0.0.1']).call(spec('/'), meta, signal())).resolves.toMatchObject({ status: 503 });
  });

  describe('redirects', () => {
    it('follows them by hand: 307 keeps the method and body, 303 turns into a GET without a body', async () => {
      route = (req, res) => {
        if (req.url === '/a') res.writeHead(307, { location: '/b' }).end();
        else if (req.url === '/b') res.writeHead(303, { location: `http://localhost:${port}/c` }).end();
        else res.end('done');
      };
      const c = client(['127.0.0.1', 'localhost']);
      const response = await c.call(spec('/a', { body: 'payload', headers: { 'content-type': 'text/plain', authorization: 'x' } }), meta, signal());
      expect(response).toMatchObject({ status: 200, redirected: true });
      expect(response.url.href).toBe(`http://localhost:${port}/c`);
      expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
        ['POST', '/a', 'payload'],
        ['POST', '/b', 'payload'],
        ['GET', '/c', ''],
      ]);
      // Credentials stay with the origin they were given for; every hop carries the task headers.
      expect(seen[1].headers.authorization).toBe('x');
      expect(seen[2].headers.authorization).toBeUndefined();
      expect(seen.every((s) => s.headers['x-task-id'] === 'task-1')).toBe(true);
    });

    it('refuses a redirect to a host the policy does not allow, without calling it', async () => {
      route = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      const err = await failure(client(['127.0.0.1']).call(spec('/'), meta, signal()));
      expect(err).toBeInstanceOf(NonRetryableError);
      expect(err.message).toBe('redirect to http://169.254.169.254 refused: host "169.254.169.254" is not allowed by HTTP_TASK_ALLOWED_HOSTS');
      route = (_req, res) => res.writeHead(301, { location: 'https://evil.example/' }).end();
      await expect(client(['127.0.0.1', '*.example.com']).call(spec('/'), meta, signal())).rejects.toThrow(
        'redirect to https://evil.example refused: host "evil.example" is not allowed by HTTP_TASK_ALLOWED_HOSTS',
      );
      route = (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      await expect(client(['127.0.0.1']).call(spec('/'), meta, signal())).rejects.toThrow('redirect to a file URL refused');
    });

    it('gives up after 5 redirects', async () => {
      route = (_req, res) => res.writeHead(302, { location: '/again' }).end();
      const err = await failure(client(['127.0.0.1']).call(spec('/'), meta, signal()));
      expect(err).toBeInstanceOf(NonRetryableError);
      expect(err.message).toBe('more than 5 redirects (last to /again)');
      expect(seen).toHaveLength(6);
    });
  });

  describe('addresses, checked when the pool connects', () => {
    /** Resolves every name to the given address (a test double of dns.lookup). */
    const resolvingTo =
      (address: string): DnsLookupAll =>
      (_host, _options, callback) =>
        callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

    it('refuses a host that resolves to 169.254.169.254, even when listed exactly', async () => {
      const err = await failure(client(['metadata.test'], { lookup: resolvingTo('169.254.169.254') }).call(
        spec('/', { url: new URL(`http://metadata.test:${port}/`) }),
        meta,
        signal(),
      ));
      expect(err).toBeInstanceOf(BlockedAddressError);
      expect(err.message).toBe('host "metadata.test" refused: 169.254.169.254 is a link-local, metadata or reserved address');
      expect(seen).toHaveLength(0);
    });

    it('reaches a loopback address through a host listed exactly, not through a *. pattern', async () => {
      route = (_req, res) => res.end('local');
      const exact = client(['local.test'], { lookup: resolvingTo('127.0.0.1') });
      const ok = await exact.call(spec('/', { url: new URL(`http://local.test:${port}/`) }), meta, signal());
      expect(ok.body.toString()).toBe('local');
      expect(seen[0].headers.host).toBe(`local.test:${port}`);

      const pattern = client(['*.corp.test'], { lookup: resolvingTo('127.0.0.1') });
      const err = await failure(pattern.call(spec('/', { url: new URL(`http://api.corp.test:${port}/`) }), meta, signal()));
      expect(err).toBeInstanceOf(BlockedAddressError);
      expect(err.message).toContain('127.0.0.1 is a loopback or private address');
      expect(seen).toHaveLength(1);
    });

    it('connects to the allowed addresses of a name that resolves to allowed and refused ones', async () => {
      route = (_req, res) => res.end('ok');
      const mixed: DnsLookupAll = (_host, _options, callback) =>
        callback(null, [
          { address: '169.254.169.254', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]);
      const response = await client(['both.test'], { lookup: mixed }).call(spec('/', { url: new URL(`http://both.test:${port}/`) }), meta, signal());
      expect(response.status).toBe(200);
    });
  });

  it('fails retryably on a timeout, naming it', async () => {
    route = () => undefined; // never answers
    const err = await failure(client(['127.0.0.1']).call(spec('/', { timeoutMs: 100 }), meta, signal()));
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(err.message).toBe('timeout after 100 ms (payload timeout_ms)');
  });

  it('stops with TaskAbortedError when the task signal aborts', async () => {
    route = () => undefined;
    const abort = new AbortController();
    const call = failure(client(['127.0.0.1']).call(spec('/'), meta, abort.signal));
    setTimeout(() => abort.abort('deleted'), 50);
    expect(await call).toBeInstanceOf(TaskAbortedError);
  });

  it('fails retryably when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(client(['127.0.0.1']).call(spec('/', { url: new URL(`http://127.0.0.1:${closedPort}/`) }), meta, signal()));
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(err.message).toMatch(new RegExp(`^request to http://127.0.0.1:${closedPort} failed: .*ECONNREFUSED`));
  });
});
