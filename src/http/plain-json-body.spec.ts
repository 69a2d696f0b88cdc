import express, { NextFunction, Request, Response } from 'express';
import * as fc from 'fast-check';
import { AddressInfo, connect, Socket } from 'node:net';
import type { Server } from 'node:http';
import { toHttpError } from './http-error.filter';
import { isEmptyBody, jsonBodyParser } from './json-body';
import * as plain from './plain-json-body';

const LIMIT = 1000;

/** What the app saw of a request: the body and its emptiness, or the error the parser passed on. */
interface Seen {
  body?: unknown;
  empty?: boolean;
  error?: { status: number; message: string; type?: string; code?: string; received?: number; expected?: number };
}

/** An app with jsonBodyParser(LIMIT) that records what each request came to, by its X-Case header. */
function recordingApp(): { server: Server; seen: Map<string, Seen>; port: () => number } {
  const seen = new Map<string, Seen>();
  const app = express();
  app.use(jsonBodyParser(LIMIT));
  app.use((req: Request, res: Response) => {
    seen.set(String(req.headers['x-case']), { body: req.body, empty: isEmptyBody(req) });
    res.status(200).end();
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; code?: string; received?: number; expected?: number };
    const { status, message } = toHttpError(err);
    seen.set(String(req.headers['x-case']), { error: { status, message, type: e.type, code: e.code, received: e.received, expected: e.expected } });
    if (!res.headersSent) res.status(status).end();
  });
  const server = app.listen(0, '127.0.0.1');
  return { server, seen, port: () => (server.address() as AddressInfo).port };
}

/** Sends one request of raw bytes on its own connection and waits for its answer (the server closes: Connection: close). */
function send(port: number, head: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(Buffer.concat([Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1'), body])));
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

let counter = 0;
/**
 * The same bytes twice: as `application/json` (the plain reader) and as `Application/JSON` (which
 * body-parser reads the same way, being case-insensitive, and the plain reader leaves to it).
 */
async function bothWays(port: number, seen: Map<string, Seen>, body: Buffer, extraType = ''): Promise<{ plain: Seen; parser: Seen }> {
  const id = (counter += 1);
  const head = (type: string, tag: string) => `POST / HTTP/1.1\r\nHost: x\r\nX-Case: ${tag}${id}\r\nContent-Type: ${type}${extraType}\r\nContent-Length: ${body.length}\r\n`;
  await send(port, head('application/json', 'p'), body);
  await send(port, head('Application/JSON', 'b'), body);
  return { plain: seen.get(`p${id}`) as Seen, parser: seen.get(`b${id}`) as Seen };
}

describe('the plain JSON reader (jsonBodyParser without body-parser)', () => {
  let app: ReturnType<typeof recordingApp>;
  let readSpy: jest.SpyInstance;

  beforeAll(async () => {
    app = recordingApp();
    await new Promise((resolve) => app.server.once('listening', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => app.server.close(resolve));
  });
  beforeEach(() => {
    readSpy = jest.spyOn(plain, 'readPlainJson');
  });
  afterEach(() => readSpy.mockRestore());

  const cases: Array<[string, Buffer]> = [
    ['a task', Buffer.from('{"type":"echo","payload":"hello world","max_retry":3}')],
    ['an array', Buffer.from('[1,2,{"a":[]}]')],
    ['a scalar', Buffer.from('5')],
    ['null', Buffer.from('null')],
    ['empty (Content-Length: 0)', Buffer.alloc(0)],
    ['whitespace only', Buffer.from(' \r\n\t ')],
    ['a syntax error', Buffer.from('{"type":')],
    ['a trailing comma', Buffer.from('{"a":1,}')],
    ['a byte order mark, then JSON', Buffer.from('\ufeff{"a":"b"}')],
    ['a byte order mark only', Buffer.from('\ufeff')],
    ['a byte order mark, then whitespace', Buffer.from('\ufeff  ')],
    ['invalid UTF-8 inside a string', Buffer.from([0x22, 0xff, 0xfe, 0xc3, 0x22])],
    ['a UTF-8 sequence cut at the end', Buffer.from([0x22, 0x61, 0x22, 0xe2, 0x82])],
    ['too deep', Buffer.from(`${'['.repeat(40)}1${']'.repeat(40)}`)],
    ['a __proto__ key', Buffer.from('{"__proto__":{"x":1},"type":"echo"}')],
    ['exactly the limit', Buffer.from(`"${'x'.repeat(LIMIT - 2)}"`)],
  ];

  it.each(cases)('%s: the same body, emptiness or error as body-parser', async (_name, body) => {
    const { plain: p, parser: b } = await bothWays(app.port(), app.seen, body);
    expect(p).toEqual(b);
    expect(p).toBeDefined();
    expect(readSpy).toHaveBeenCalledTimes(1);
  });

  it('with `; charset=utf-8` too', async () => {
    const { plain: p, parser: b } = await bothWays(app.port(), app.seen, Buffer.from('{"a":"é"}'), '; charset=utf-8');
    expect(p).toEqual({ body: { a: 'é' }, empty: false });
    expect(b).toEqual(p);
    expect(readSpy).toHaveBeenCalledTimes(1);
  });

  it('any bytes: the same outcome as body-parser', async () => {
    const json = fc.json().map((s) => Buffer.from(s));
    const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, bytes), async (body) => {
        const { plain: p, parser: b } = await bothWays(app.port(), app.seen, body);
        expect(p).toEqual(b);
      }),
      { numRuns: 60 },
    );
  });

  it.each([
    ['over the limit', 'application/json', `Content-Length: ${LIMIT + 1}\r\n`],
    ['gzip', 'application/json', 'Content-Encoding: gzip\r\nContent-Length: 2\r\n'],
    ['chunked', 'application/json', 'Transfer-Encoding: chunked\r\n'],
    ['another charset', 'application/json; charset=latin1', 'Content-Length: 2\r\n'],
    ['another type', 'text/plain', 'Content-Length: 2\r\n'],
    ['a +json type', 'application/merge-patch+json', 'Content-Length: 2\r\n'],
  ])('leaves a request %s to body-parser', async (_name, type, headers) => {
    const id = (counter += 1);
    const body = headers.includes('chunked')
      ? Buffer.from('2\r\n{}\r\n0\r\n\r\n')
      : Buffer.from(headers.includes(`${LIMIT + 1}`) ? ' '.repeat(LIMIT + 1) : '{}');
    await send(app.port(), `POST / HTTP/1.1\r\nHost: x\r\nX-Case: o${id}\r\nContent-Type: ${type}\r\n${headers}`, body);
    expect(app.seen.get(`o${id}`)).toBeDefined();
    expect(readSpy).not.toHaveBeenCalled();
  });

  it('a client gone before the end of its body: the 400 `request aborted` of body-parser, both ways', async () => {
    const abort = async (type: string, tag: string): Promise<Seen | undefined> => {
      const s: Socket = connect(app.port(), '127.0.0.1');
      await new Promise((resolve) => s.once('connect', resolve));
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nX-Case: ${tag}\r\nContent-Type: ${type}\r\nContent-Length: 50\r\n\r\n{"type":`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      s.destroy();
      await new Promise<void>((resolve) => {
        const poll = () => (app.seen.has(tag) ? resolve() : setTimeout(poll, 10));
        poll();
      });
      return app.seen.get(tag);
    };
    const id = (counter += 1);
    const p = await abort('application/json', `ap${id}`);
    const b = await abort('Application/JSON', `ab${id}`);
    expect(p).toEqual({ error: { status: 400, message: 'request aborted', type: 'request.aborted', code: 'ECONNABORTED', received: 8, expected: 50 } });
    expect(b).toEqual(p);
    expect(readSpy).toHaveBeenCalledTimes(1);
  });
});
