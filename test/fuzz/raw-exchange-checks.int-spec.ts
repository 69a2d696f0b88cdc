import net, { type AddressInfo } from 'node:net';
import { HttpFuzzer, RawExchange } from './http-api.property';

/**
 * The fuzz property's checks of raw-socket exchanges must be able to fail: each case points the
 * fuzzer at a small loopback server that misbehaves in one way (or behaves, to show the check
 * passes then) and expects the verdict. `/health/live` answers 200 unless the case says otherwise.
 */

/** What the server does with a connection that is not a health check. */
interface Behaviour {
  /** On the first bytes. */
  data?: (socket: net.Socket) => void;
  /** When 50 ms pass without a byte. */
  idle?: (socket: net.Socket) => void;
  /** When the client ends the connection without having sent a byte. */
  end?: (socket: net.Socket) => void;
}

const exchange = (raw: string, complete = false): RawExchange => ({ kind: 'raw/test', raw: Buffer.from(raw, 'latin1'), requests: 1, complete });

const reply = (status: string, body?: string) =>
  `HTTP/1.1 ${status}\r\nConnection: close\r\n${body === undefined ? 'Content-Length: 0' : `Content-Type: application/json\r\nContent-Length: ${body.length}`}\r\n\r\n${body ?? ''}`;

const INCOMPLETE_HEAD = 'GET /tasks HTTP/1.1\r\nHost: x\r\n';

describe('raw exchange checks of the fuzz property', () => {
  let server: net.Server;
  let fuzzer: HttpFuzzer;
  let behaviour: Behaviour;
  let liveStatus: string;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let heard = false;
      const idle = setTimeout(() => behaviour.idle?.(socket), 50);
      socket.once('data', (d: Buffer) => {
        heard = true;
        clearTimeout(idle);
        if (d.toString('latin1').startsWith('GET /health/live ')) socket.end(reply(liveStatus, '{"status":"ok"}'));
        else behaviour.data?.(socket);
      });
      socket.on('end', () => {
        clearTimeout(idle);
        if (!heard) behaviour.end?.(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fuzzer = new HttpFuzzer('127.0.0.1', (server.address() as AddressInfo).port, 5000);
  });

  beforeEach(() => {
    liveStatus = '200 OK';
  });

  afterAll(async () => {
    fuzzer.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('passes a 400 followed by a close', async () => {
    behaviour = { data: (socket) => socket.end(reply('400 Bad Request')) };
    await expect(fuzzer.sendRawAndCheck(exchange(INCOMPLETE_HEAD))).resolves.toHaveLength(1);
  });

  it('passes a silent close after a complete request head it refuses (CONNECT)', async () => {
    behaviour = { data: (socket) => socket.destroy() };
    await expect(fuzzer.sendRawAndCheck(exchange('CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'))).resolves.toEqual([]);
  });

  it('passes a close after the client ended without sending anything', async () => {
    behaviour = { end: (socket) => socket.end() };
    await expect(fuzzer.sendRawAndCheck(exchange(''))).resolves.toEqual([]);
  });

  it('fails a silent close before the request head is complete', async () => {
    behaviour = { data: (socket) => socket.destroy() };
    await expect(fuzzer.sendRawAndCheck(exchange(INCOMPLETE_HEAD))).rejects.toThrow(/closed without an answer before a complete request head/);
  });

  it('fails a connection reset before any answer', async () => {
    behaviour = { data: (socket) => socket.resetAndDestroy() };
    await expect(fuzzer.sendRawAndCheck(exchange('CONNECT evil.example:443 HTTP/1.1\r\nHost: x\r\n\r\n'))).rejects.toThrow(/connection error ECONNRESET before any answer/);
  });

  it('fails a 2xx to bytes that are not a complete valid request', async () => {
    behaviour = { data: (socket) => socket.end(reply('200 OK', '[]')) };
    await expect(fuzzer.sendRawAndCheck(exchange(INCOMPLETE_HEAD))).rejects.toThrow(/got no 4xx \(200\)/);
  });

  it('fails a server that closes on a client which has sent nothing yet', async () => {
    behaviour = { idle: (socket) => socket.end() };
    await expect(fuzzer.sendRawAndCheck(exchange(''))).rejects.toThrow(/closed a connection that had sent nothing yet/);
  });

  it('fails when the server is not healthy after the exchange', async () => {
    behaviour = { data: (socket) => socket.end(reply('400 Bad Request')) };
    liveStatus = '503 Service Unavailable';
    await expect(fuzzer.sendRawAndCheck(exchange(INCOMPLETE_HEAD))).rejects.toThrow(/GET \/health\/live after the exchange: 503/);
  });
});
