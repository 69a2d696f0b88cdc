import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { QueueKeys } from '../src/queue/queue-keys';
import { PrivateRedis } from './support/redis-server';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { ServiceProcess, startService, stopService } from './support/service-process';
import { delay, waitFor } from './support/wait';

/**
 * Redis errors seen from a client and from the service's log (a real process, so its log can be read).
 * Transient ones (Redis busy, paused, away) are 503 with Retry-After; the rest are server errors:
 * 500 with a generic message, and one error line that carries the Redis reply.
 */

const GENERIC_500 = { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };

/** Log lines written since `from` (an offset into the output) at level error (pino level 50). */
const errorLines = (service: ServiceProcess, from: number) =>
  service.output().slice(from).split('\n').filter((l) => l.includes('"level":50'));

const post = (url: string, body: object) =>
  fetch(`${url}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The one error line that names `reply`, after the request at `from` failed with 500. */
async function serverErrorLine(service: ServiceProcess, from: number, reply: RegExp): Promise<string> {
  const line = await waitFor(() => errorLines(service, from).find((l) => reply.test(l)), { what: `an error line matching ${reply}` });
  expect(errorLines(service, from).filter((l) => reply.test(l))).toHaveLength(1);
  expect(JSON.parse(line)).toMatchObject({ msg: 'request failed', status: 500 });
  return line;
}

describe('Redis errors: unavailable (503) or server error (500)', () => {
  describe('on the shared Redis, with keys planted under a test prefix', () => {
    const prefix = uniquePrefix('rediserr');
    const keys = new QueueKeys(prefix);
    const redis = testRedis();
    let service: ServiceProcess | undefined;

    beforeAll(async () => {
      service = await startService({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
    }, 60_000);
    afterAll(async () => {
      await stopService(service);
      await deleteByPrefix(redis, prefix);
      redis.disconnect();
    });

    it('WRONGTYPE (a task key that is not a hash) is a 500 without the reply, and one error line with it', async () => {
      const id = randomUUID();
      await redis.set(keys.task(id), 'not a hash');
      const from = service!.output().length;
      const res = await fetch(`${service!.url}/tasks/${id}`);
      expect(res.status).toBe(500);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(await res.json()).toEqual(GENERIC_500);
      const line = await serverErrorLine(service!, from, /WRONGTYPE Operation against a key holding the wrong kind of value/);
      expect(line).not.toMatch(/Redis is unavailable/);
    }, 30_000);

    it('a Lua runtime error (a task hash without a type) is a 500 without the reply, and one error line with it', async () => {
      const id = randomUUID();
      // delete.lua builds the status+type index key from the type; a missing one is a script error.
      await redis.hset(keys.task(id), 'status', 'pending');
      const from = service!.output().length;
      const res = await fetch(`${service!.url}/tasks/${id}`, { method: 'DELETE' });
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body).toEqual(GENERIC_500);
      await serverErrorLine(service!, from, /ERR user_script:\d+: attempt to concatenate/);
    }, 30_000);
  });

  describe('on a private redis-server', () => {
    let redis: PrivateRedis;
    let admin: Redis;
    let service: ServiceProcess | undefined;

    beforeAll(async () => {
      redis = await PrivateRedis.start('everysec');
      admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    }, 30_000);
    afterEach(async () => {
      await stopService(service);
      service = undefined;
    });
    afterAll(async () => {
      admin.disconnect();
      await redis.destroy();
    });

    it('NOPERM (an ACL user without access to the queue keys) is a 500, and one error line with the reply', async () => {
      await admin.acl('SETUSER', 'outsider', 'reset', 'on', '>outsider-pw', '~elsewhere:*', '&*', '+@all');
      service = await startService({ REDIS_URL: `redis://outsider:outsider-pw@127.0.0.1:${redis.port}`, QUEUE_PREFIX: 'noperm', APP_ROLE: 'api' });
      const from = service.output().length;
      const res = await post(service.url, { type: 'echo', payload: 'x' });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual(GENERIC_500);
      await serverErrorLine(service, from, /NOPERM this user has no permissions/);
    }, 60_000);

    it('OOM (maxmemory reached, noeviction) is a 500 for writes, and one error line with the reply; reads still work', async () => {
      service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'oom', APP_ROLE: 'api' });
      const created = await post(service.url, { type: 'echo', payload: 'before' });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const from = service.output().length;
      await admin.config('SET', 'maxmemory', '1');
      try {
        const res = await post(service.url, { type: 'echo', payload: 'x' });
        expect(res.status).toBe(500);
        expect(await res.json()).toEqual(GENERIC_500);
        expect((await fetch(`${service.url}/tasks/${id}`)).status).toBe(200);
      } finally {
        await admin.config('SET', 'maxmemory', '0');
      }
      await serverErrorLine(service, from, /OOM command not allowed when used memory > 'maxmemory'/);
    }, 60_000);

    it('BUSY (a long script on the server) is a 503 with Retry-After, without the reply', async () => {
      service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'busy', APP_ROLE: 'api' });
      const from = service.output().length;
      await admin.config('SET', 'busy-reply-threshold', '50');
      const runner = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
      // A connection made while the server is busy cannot pass ioredis' INFO ready check.
      const killer = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 0, enableReadyCheck: false });
      await killer.ping();
      const endless = runner.eval('while true do end', 0).catch((err: Error) => err);
      try {
        const res = await waitFor(async () => {
          const r = await fetch(`${service!.url}/tasks/${randomUUID()}`);
          return r.status === 404 ? undefined : r;
        }, { what: 'the server to answer BUSY' });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        const body = (await res.json()) as { message: string };
        expect(body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'queue store (Redis) is unavailable; try again' });
      } finally {
        await killer.script('KILL').catch(() => undefined);
        await endless;
        runner.disconnect();
        killer.disconnect();
        await admin.config('SET', 'busy-reply-threshold', '5000');
      }
      // The line reaches us through the child's stdout pipe, maybe after the answer: wait for it.
      const busy = (l: string) => /BUSY Redis is busy running a script/.test(l) && /Redis is unavailable/.test(l);
      await waitFor(() => errorLines(service!, from).find(busy), { what: 'the "Redis is unavailable" line naming BUSY' });
      expect(errorLines(service, from).filter((l) => /request failed/.test(l))).toEqual([]);
    }, 60_000);

    it('a slow Redis (commands time out between answers) logs one outage line, not one per failure', async () => {
      service = await startService({ REDIS_URL: redis.url, QUEUE_PREFIX: 'slowish', APP_ROLE: 'api', REDIS_COMMAND_TIMEOUT_MS: '100' });
      const from = service.output().length;
      const probe = () => fetch(`${service!.url}/tasks/${randomUUID()}`);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        await admin.client('PAUSE', 400, 'ALL');
        statuses.push((await probe()).status); // times out: 503
        await waitFor(async () => ((await probe()).status === 404 ? true : undefined), { what: 'Redis to answer after the pause' });
        statuses.push(404);
      }
      expect(statuses.filter((s) => s === 503)).toHaveLength(5);
      const outage = (l: string) => /Redis is unavailable/.test(l);
      expect(errorLines(service, from).filter(outage)).toHaveLength(1);
      expect(service.output().slice(from)).not.toMatch(/Redis answers again/);
      // Once commands have succeeded without a failure for a while, the end of the outage is logged once.
      await waitFor(async () => {
        await probe();
        return /Redis answers again/.test(service!.output().slice(from)) ? true : undefined;
      }, { timeoutMs: 20_000, intervalMs: 250, what: 'the end of the outage to be logged' });
      await delay(300);
      expect(service.output().slice(from).match(/Redis answers again/g)).toHaveLength(1);
      expect(errorLines(service, from).filter(outage)).toHaveLength(1);
    }, 90_000);
  });
});
