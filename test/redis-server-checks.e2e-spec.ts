import { createServer, Server, Socket } from 'node:net';
import Redis from 'ioredis';
import request from 'supertest';
import { RedisVersionError } from '../src/queue/redis-server-check';
import { PrivateRedis } from './support/redis-server';
import { createTestApp, TestApp } from './support/test-app';

/** A speaker of just enough RESP to look like a Redis of `version`: INFO answers with it, anything else +OK. */
function fakeRedis(version: string): Promise<{ server: Server; port: number }> {
  const info = `# Server\r\nredis_version:${version}\r\n# Persistence\r\nloading:0\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n`;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      // One reply per command in the chunk (each starts with *<n> on a line of its own).
      for (const command of data.toString().split(/(?=^\*\d+\r$)/m).filter((c) => c.startsWith('*'))) {
        socket.write(/\r\ninfo\r\n/i.test(command) ? `$${Buffer.byteLength(info)}\r\n${info}\r\n` : '+OK\r\n');
      }
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

/** What the boot checks of the Redis server(s) say, and WAIT for replicas where there are none. */
describe('Redis server checks', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let t: TestApp | undefined;
  const lines: string[] = [];
  const logStream = { write: (line: string) => void lines.push(line) };
  const logged = (msg: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

  beforeAll(async () => {
    redis = await PrivateRedis.start('everysec');
    admin = new Redis(redis.port, '127.0.0.1');
    // The ACL the README suggests: its own keys and channels, no admin commands.
    await admin.call('ACL', 'SETUSER', 'taskqueue', 'on', '>acl-s3cret-pw', '~checks:*', '&checks:*', '+@all', '-@admin', '+info');
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    lines.length = 0;
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.destroy();
  });

  it('logs the server it connected to with the ACL user but never the password, and warns per server that may evict tasks', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      t = await createTestApp(
        { REDIS_URL: '', REDIS_ADDR: `127.0.0.1:${redis.port}`, REDIS_USERNAME: 'taskqueue', REDIS_PASSWORD: 'acl-s3cret-pw', QUEUE_PREFIX: 'checks', LOG_LEVEL: 'info' },
        { logStream },
      );
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
    const [connected] = logged('Redis connected');
    expect(connected).toMatchObject({
      redis: `taskqueue@127.0.0.1:${redis.port}/0`,
      servers: [{ address: `taskqueue@127.0.0.1:${redis.port}/0`, version: expect.stringMatching(/^\d+\.\d+\.\d+$/), maxmemory_policy: 'allkeys-lru' }],
    });
    expect(logged('Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict accepted tasks. Set maxmemory-policy noeviction')).toEqual([
      expect.objectContaining({ level: 40, redis: `taskqueue@127.0.0.1:${redis.port}/0`, maxmemory_policy: 'allkeys-lru' }),
    ]);
    expect(lines.join('\n')).not.toContain('acl-s3cret-pw');
    // The ACL user really is the one in use, and its rights are enough to run a task.
    const { body } = await request(t.http).post('/tasks?wait=10').send({ type: 'echo', payload: 'acl' });
    expect(body).toMatchObject({ status: 'completed', result: 'echo: acl' });
    expect(await admin.call('CLIENT', 'LIST')).toMatch(/user=taskqueue/);
  });

  it('masks the password of REDIS_URL in the connected line', async () => {
    t = await createTestApp({ REDIS_URL: `redis://taskqueue:acl-s3cret-pw@127.0.0.1:${redis.port}/0`, QUEUE_PREFIX: 'checks', LOG_LEVEL: 'info' }, { logStream });
    expect(logged('Redis connected')).toEqual([expect.objectContaining({ redis: `redis://***@127.0.0.1:${redis.port}/0` })]);
    expect(lines.join('\n')).not.toContain('acl-s3cret-pw');
  });

  it('fails the boot on a Redis older than 6.2, naming the server and its version', async () => {
    const fake = await fakeRedis('6.0.16');
    try {
      const boot = createTestApp({ REDIS_URL: `redis://127.0.0.1:${fake.port}`, QUEUE_PREFIX: 'checks' });
      await expect(boot).rejects.toThrow(RedisVersionError);
      await expect(boot).rejects.toThrow(`Redis 6.2.0 or later is required (the scripts use ZRANGE BYSCORE/REV LIMIT): redis://127.0.0.1:${fake.port} runs 6.0.16`);
    } finally {
      fake.server.close();
    }
  });

  it('REDIS_WAIT_REPLICAS=1 without a replica: 503 after REDIS_WAIT_TIMEOUT_MS, one warning; the task is on the primary', async () => {
    t = await createTestApp(
      { REDIS_URL: redis.url, QUEUE_PREFIX: 'checks-wait', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '100', APP_ROLE: 'api', LOG_LEVEL: 'info' },
      { logStream },
    );
    const res = await request(t.http).post('/tasks').set('Idempotency-Key', 'wait-replica-1').send({ type: 'echo' }).expect(503);
    expect(res.headers['retry-after']).toBeDefined();
    await request(t.http).post('/tasks').set('Idempotency-Key', 'wait-replica-1').send({ type: 'echo' }).expect(503);
    const warnings = logged('Enqueued tasks were acknowledged by fewer replicas than REDIS_WAIT_REPLICAS: answered 503 (they are on the primary and may still run)');
    expect(warnings).toEqual([expect.objectContaining({ level: 40, replicas: 0, wanted: 1 })]);
    // Stored once on the primary, whatever the answers said.
    expect(await admin.zcard('checks-wait:{default}:queue')).toBe(1);
    await admin.del('checks-wait:{default}:queue');
  });
});
