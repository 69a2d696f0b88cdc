import Redis, { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { QueueServerError, QueueUnavailableError } from './queue-errors';
import { classifyRedisError, toQueueError } from './redis-error-classifier';

/**
 * Over the error objects ioredis really produces: replies as the Redis 7 parser builds them (texts copied
 * from redis-server 7.0), and the client's own errors raised by a real ioredis client against loopback
 * sockets that misbehave on purpose (never answer, close the connection, refuse it).
 */

/** A TCP peer that accepts connections and then does what `onData` says with whatever a client writes. */
async function peer(onData: (socket: Socket, data: string) => void): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data: Buffer) => onData(socket, data.toString()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, sockets };
}

async function closePeer(p: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const s of p.sockets) s.destroy();
  await new Promise((resolve) => p.server.close(resolve));
}

/** The rejection of `command`, which must fail. */
async function failure(command: () => Promise<unknown>): Promise<unknown> {
  try {
    await command();
  } catch (err) {
    return err;
  }
  throw new Error('the command succeeded');
}

/** ioredis sends commands in lower case; everything else (its CLIENT SETINFO handshake) is acknowledged. */
const isGet = (data: string) => data.includes('\r\nget\r\n');
/** One +OK per command in the chunk (ioredis may send its two CLIENT SETINFO in one write). */
const acks = (data: string) => '+OK\r\n'.repeat(data.split('SETINFO').length - 1);

const quiet = { maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false, lazyConnect: true } as const;

describe('classifyRedisError', () => {
  describe('Redis replies', () => {
    it.each([
      'LOADING Redis is loading the dataset in memory',
      'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
      "READONLY You can't write against a read only replica.",
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'CLUSTERDOWN The cluster is down',
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      // Redirects ioredis does not follow inside an autopipeline that mixes them with other replies.
      'ASK 5718 127.0.0.1:46013',
      'MOVED 5718 127.0.0.1:46013',
      // A key a script derives (not in KEYS) whose slot is being migrated: seen while resharding.
      'ERR Script attempted to access a non local key in a cluster node script: bbba6002f695fef863eb7978cfdbec1aec4df36a, on @user_script:256.',
    ])('%s is unavailable (503)', (reply) => {
      const err = new ReplyError(reply);
      expect(classifyRedisError(err)).toBe('unavailable');
      expect(toQueueError(err)).toBeInstanceOf(QueueUnavailableError);
    });

    it.each([
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'WRONGTYPE Operation against a key holding the wrong kind of value script: 2e9dc1eee79fed50b6f3a9088fab7b81cb333123, on @user_script:1.',
      "ERR user_script:1: attempt to concatenate local 't' (a nil value) script: 4acd2c911c0b5bdd46cb8a30ac098bbb8d816e4e, on @user_script:1.",
      'ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.',
      'NOAUTH Authentication required.',
      'WRONGPASS invalid username-password pair or user is disabled.',
      'NOPERM this user has no permissions to access one of the keys used as arguments',
      "OOM command not allowed when used memory > 'maxmemory'.",
      "OOM command not allowed when used memory > 'maxmemory'. script: 219bb33e7c6773035c720850383aa2ebb63d9904, on @user_script:1.",
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      "CROSSSLOT Keys in request don't hash to the same slot",
      "ERR unknown command 'FOO', with args beginning with: ",
      // A transient code that is not the first word is not the reply's code.
      'ERR user_script:3: BUSY is what the script said script: 1, on @user_script:3.',
    ])('%s is a server error (500)', (reply) => {
      const err = new ReplyError(reply);
      expect(classifyRedisError(err)).toBe('server-error');
      const mapped = toQueueError(err);
      expect(mapped).toBeInstanceOf(QueueServerError);
      expect((mapped as QueueServerError).reply).toBe(reply);
    });

    it('keeps the command name of a reply (never its arguments)', () => {
      const err = Object.assign(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'), {
        command: { name: 'hgetall', args: ['tq:{default}:t:1'] },
      });
      const mapped = toQueueError(err) as QueueServerError;
      expect(mapped.command).toBe('hgetall');
      expect(mapped.message).toBe('queue store error: WRONGTYPE Operation against a key holding the wrong kind of value');
    });
  });

  describe('errors of the ioredis client itself', () => {
    let client: Redis | undefined;
    let tcp: Awaited<ReturnType<typeof peer>> | undefined;

    afterEach(async () => {
      // A client whose connection has ended must not be disconnected again: ioredis would arm a timer
      // waiting for a socket close that already happened.
      const c = client?.status === 'end' ? undefined : client;
      const ended = c ? new Promise((resolve) => c.once('end', resolve)) : undefined;
      c?.disconnect();
      client = undefined;
      if (tcp) await closePeer(tcp);
      tcp = undefined;
      // ioredis arms a timer until the socket has closed; wait for it so nothing outlives the test.
      await ended;
    });

    it('a command timeout (a server that never answers) is unavailable', async () => {
      tcp = await peer((socket, data) => (isGet(data) ? undefined : socket.write(acks(data))));
      client = new Redis(tcp.port, '127.0.0.1', { ...quiet, commandTimeout: 50 });
      await client.connect();
      const err = await failure(() => client!.get('k'));
      expect((err as Error).message).toBe('Command timed out');
      expect(classifyRedisError(err)).toBe('unavailable');
    });

    it('a connection closed under a command is unavailable', async () => {
      // Answers the handshake ioredis may send (CLIENT SETINFO) and drops the connection on the command.
      tcp = await peer((socket, data) => (isGet(data) ? socket.destroy() : socket.write(acks(data))));
      client = new Redis(tcp.port, '127.0.0.1', { ...quiet, autoResendUnfulfilledCommands: false });
      client.on('error', () => undefined);
      await client.connect();
      const err = await failure(() => client!.get('k'));
      expect(classifyRedisError(err)).toBe('unavailable');
    });

    it('a command on a connection that is not open (no offline queue) is unavailable', async () => {
      client = new Redis(1, '127.0.0.1', { ...quiet, enableOfflineQueue: false });
      const err = await failure(() => client!.get('k'));
      expect((err as Error).message).toMatch(/^Stream isn't writeable/);
      expect(classifyRedisError(err)).toBe('unavailable');
    });

    it('a refused connection (ECONNREFUSED) is unavailable', async () => {
      const closed = await peer(() => undefined);
      const { port } = closed;
      await closePeer(closed);
      client = new Redis(port, '127.0.0.1', quiet);
      const refused = new Promise<unknown>((resolve) => client!.once('error', resolve));
      // connect() itself rejects with "Connection is closed."; the socket's error comes as an event.
      await failure(() => client!.connect());
      const err = await refused;
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      expect(classifyRedisError(err)).toBe('unavailable');
    });

    it.each([
      "Cluster isn't ready and enableOfflineQueue options is false",
      'Failed to refresh slots cache.',
      'None of startup nodes is available',
    ])('the Cluster client saying %p is unavailable', (message) => {
      expect(classifyRedisError(new Error(message))).toBe('unavailable');
    });

    it('MaxRetriesPerRequestError is unavailable', () => {
      expect(classifyRedisError(new MaxRetriesPerRequestError(0))).toBe('unavailable');
    });

    it.each(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])('a socket error %s is unavailable', (code) => {
      expect(classifyRedisError(Object.assign(new Error(`read ${code}`), { code, syscall: 'read' }))).toBe('unavailable');
    });
  });

  describe('anything else', () => {
    it.each([
      ['a TypeError of our own code', new TypeError("Cannot read properties of undefined (reading 'length')")],
      ['a plain Error', new Error('something else')],
      ['a string', 'boom'],
      ['undefined', undefined],
    ])('%s is a server error', (_name, err) => {
      expect(classifyRedisError(err)).toBe('server-error');
      expect(toQueueError(err)).toBeInstanceOf(QueueServerError);
    });
  });
});
