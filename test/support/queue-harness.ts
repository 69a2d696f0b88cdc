import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../src/config/app-config';
import { QueueKeys } from '../../src/queue/queue-keys';
import { compactTaskHash, expandTaskHash, isCompactTaskHash } from '../../src/queue/compact-task';
import { LeasedTask, ListCursor, NewTask, TaskRecord } from '../../src/queue/task.model';
import { ListFilter, QueueRepository } from '../../src/queue/queue.repository';
import { RedisConnections } from '../../src/queue/redis-connections';
import { deleteByPrefix, keysByPrefix, testRedis, uniquePrefix } from './redis';
import { testConfig } from './test-app';

/**
 * A fixed epoch (ms) for data a spec writes with raw commands. The scripts take their time from Redis
 * (TIME), so a spec reads it (QueueFixture.redisNow) and moves scores (expire, makeDue) instead.
 */
export const T0 = 1_700_000_000_000;
export const LEASE_MS = 30_000;

/** PinoLogger-compatible stub that swallows everything. */
export const silentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
  fatal: () => undefined,
} as unknown as PinoLogger;

/** One isolated queue: its own key prefix, the repository on it, and raw-Redis probes for assertions. */
export class QueueFixture {
  readonly repo: QueueRepository;
  readonly keys: QueueKeys;

  constructor(
    readonly config: AppConfig,
    connections: RedisConnections,
    readonly redis: Redis,
  ) {
    this.repo = new QueueRepository(connections, config);
    this.keys = this.repo.keys;
  }

  get prefix(): string {
    return this.config.queue.prefix;
  }

  /** Key name relative to the queue base, e.g. `s:pending`, for readable expectations. */
  rel(key: string): string {
    return key.startsWith(this.keys.base) ? key.slice(this.keys.base.length) : key;
  }

  /** A task's fields, a compact completed task's unpacked (expandTaskHash): what the readers see. */
  async hash(id: string): Promise<Record<string, string>> {
    return expandTaskHash(await this.rawHash(id));
  }

  /** A task's hash as stored (a completed task compact: `z`, `p`, `o`). */
  rawHash(id: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.task(id));
  }

  /** Sets fields of a task as if stored so (a compact completed task stays compact, with them). */
  async setFields(id: string, fields: Record<string, string | number>): Promise<void> {
    const key = this.keys.task(id);
    const raw = await this.rawHash(id);
    const strings = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
    if (!isCompactTaskHash(raw)) {
      await this.redis.hset(key, strings);
      return;
    }
    await this.redis.multi().del(key).hset(key, compactTaskHash({ ...expandTaskHash(raw), ...strings })).exec();
  }

  async score(key: string, id: string): Promise<number | null> {
    const s = await this.redis.zscore(key, id);
    return s === null ? null : Number(s);
  }

  /** Every key of this queue, relative to the base. */
  async allKeys(): Promise<string[]> {
    return (await keysByPrefix(this.redis, this.keys.base)).map((k) => this.rel(k));
  }

  /**
   * Where a task id is referenced: its own hash and every zset under the queue base that holds it
   * (checked with ZSCORE on each zset, whatever its name). Relative key names, sorted. Attempt
   * histories (`t:<id>:h` lists) are the task's own data, like its hash fields: not listed here (see
   * allKeys and history).
   */
  async footprint(id: string): Promise<string[]> {
    const keys = await keysByPrefix(this.redis, this.keys.base);
    const found: string[] = [];
    for (const key of keys) {
      if (key === this.keys.task(id)) {
        found.push(this.rel(key));
        continue;
      }
      const type = await this.redis.type(key);
      if (type === 'zset' && (await this.redis.zscore(key, id)) !== null) found.push(this.rel(key));
      const history = type === 'list' && /:t:[^:]+:h$/.test(key);
      if (type !== 'zset' && type !== 'hash' && !history) throw new Error(`unexpected ${type} key ${key}`);
    }
    return found.sort();
  }

  /**
   * The keys (relative) that reference a task in `status`: its hash, its stage zset and its listing
   * indexes (a processing task has none: `active` lists it; a finished one has no index per type and
   * no stage zset).
   */
  /**
   * `waiting`: a pending task queued at another time than its creation (delayed, waiting for a retry,
   * sent back after failing), which also has an s:pending entry; one queued at its creation time is
   * listed from its queue zset alone (lua/lib/common.lua PENDING_INDEX).
   */
  expectedFootprint(id: string, status: 'pending' | 'processing' | 'completed' | 'failed', opts: { waiting?: boolean } = {}): string[] {
    if (status === 'processing') return ['active', `t:${id}`].sort();
    // A finished task's status index (by finish time) is its only entry: listing and retention.
    if (status !== 'pending') return [`s:${status}`, `t:${id}`].sort();
    return (opts.waiting ? ['queue', 's:pending', `t:${id}`] : ['queue', `t:${id}`]).sort();
  }

  /** The raw entries of a task's attempt history, oldest first. */
  history(id: string): Promise<string[]> {
    return this.redis.lrange(this.keys.history(id), 0, -1);
  }

  /** Everything stored under the queue base (type and content of each key), to assert "nothing changed". */
  async dump(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const key of await keysByPrefix(this.redis, this.keys.base)) {
      const type = await this.redis.type(key);
      if (type === 'hash') out[this.rel(key)] = await this.redis.hgetall(key);
      else if (type === 'zset') out[this.rel(key)] = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'list') out[this.rel(key)] = await this.redis.lrange(key, 0, -1);
      else out[this.rel(key)] = type;
    }
    return out;
  }

  /** Redis' clock (ms), the one the scripts use. */
  async redisNow(): Promise<number> {
    const [sec, usec] = await this.redis.time();
    return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  }

  /** Lets time pass for these leases: their deadline moves to the distant past, so they are expired. */
  async expire(...ids: string[]): Promise<void> {
    for (const id of ids) await this.redis.zadd(this.keys.active, 'XX', 0, id);
  }

  /**
   * Lets time pass for a finished task: it finished `ms` before `now` (Redis' clock by default), in its
   * hash (updated_at) and its status index (the score retention and listing read).
   */
  async finishedAgo(id: string, ms: number, now?: number): Promise<void> {
    const h = await this.hash(id);
    if (h.status !== 'completed' && h.status !== 'failed') throw new Error(`${id} is ${h.status}, not finished`);
    const at = (now ?? (await this.redisNow())) - ms;
    await this.setFields(id, { updated_at: at });
    await this.redis.zadd(this.keys.byStatus(h.status), 'XX', at, id);
  }

  /** Lets time pass for these waiting tasks: their queue score moves to the distant past, so they are due. */
  async makeDue(...ids: string[]): Promise<void> {
    for (const id of ids) await this.redis.zadd(this.keys.queue, 'XX', 0, id);
  }

  async markerSet(): Promise<boolean> {
    return (await this.redis.zcard(this.keys.marker)) > 0;
  }

  async clearMarker(): Promise<void> {
    await this.redis.del(this.keys.marker);
  }

  /** Enqueues `count` tasks (ids `<id>-0`, `<id>-1`, ...) and leases them all for `leaseMs`. */
  async leased(count: number, overrides: Partial<NewTask> = {}, leaseMs = LEASE_MS): Promise<LeasedTask[]> {
    const base = overrides.id ?? 'leased';
    const tasks = Array.from({ length: count }, (_, i) => newTask({ ...overrides, id: `${base}-${i}` }));
    await this.repo.enqueue(tasks);
    const { tasks: got } = await this.repo.fetch(count, leaseMs);
    if (got.length !== count) throw new Error(`leased ${got.length} of ${count}`);
    return got;
  }

  /**
   * Enqueues task `id` (type `job`, with `overrides`), runs it through `retries` retries (each fetch +
   * start + retry) and returns the current lease; its handler has started unless `started` is false.
   */
  async leasedAfterRetries(id: string, retries: number, overrides: Partial<NewTask> = {}, started = true): Promise<LeasedTask> {
    await this.repo.enqueue([newTask({ type: 'job', ...overrides, id })]);
    let [lease] = (await this.repo.fetch(1, LEASE_MS)).tasks;
    for (let i = 0; i < retries; i += 1) {
      await this.repo.start(lease);
      await this.repo.retry(lease, `error ${i}`, 0);
      [lease] = (await this.repo.fetch(1, LEASE_MS)).tasks;
    }
    if (lease?.id !== id || lease.retries !== retries) {
      throw new Error(`expected ${id} leased after ${retries} retries, got ${JSON.stringify(lease)}`);
    }
    if (started) await this.repo.start(lease);
    return lease;
  }
}

let seq = 0;

/** A new task with defaults; ids are unique per process unless given. */
export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  seq += 1;
  return { id: `id-${seq}`, type: 'email', payload: `{"n":${seq}}`, maxRetry: 3, ...overrides };
}

/**
 * Shared connections for one spec file; every `queue()` gets a fresh key prefix so tests never see
 * each other's tasks. `close()` deletes every prefix handed out and closes all connections.
 */
export class QueueHarness {
  readonly redis = testRedis();
  readonly connections: RedisConnections;
  private readonly prefixes: string[] = [];
  private readonly extraClients: Redis[] = [];

  constructor() {
    this.connections = new RedisConnections(testConfig({ QUEUE_PREFIX: uniquePrefix('lua') }), silentLogger);
  }

  /** Waits for the command connection (it has no offline queue); call in beforeAll. */
  async start(): Promise<void> {
    await this.connections.onModuleInit();
    if (this.connections.commands.status !== 'ready') throw new Error('Redis is not reachable');
  }

  /**
   * `env`: more configuration, e.g. { COMPACT_COMPLETED_TASKS: 'false' }; with QUEUE_PREFIX (another
   * fixture's `prefix`), a second process of other settings on the same data.
   */
  queue(env: Record<string, string> = {}): QueueFixture {
    const prefix = env.QUEUE_PREFIX ?? uniquePrefix('lua');
    if (!this.prefixes.includes(prefix)) this.prefixes.push(prefix);
    return new QueueFixture(testConfig({ ...env, QUEUE_PREFIX: prefix }), this.connections, this.redis);
  }

  /** A plain extra client (e.g. a subscriber), closed with the harness. */
  client(): Redis {
    const c = testRedis();
    this.extraClients.push(c);
    return c;
  }

  async close(): Promise<void> {
    for (const prefix of this.prefixes) await deleteByPrefix(this.redis, `${prefix}:`);
    await this.connections.onApplicationShutdown();
    for (const c of this.extraClients) c.disconnect();
    await this.redis.quit();
  }
}

/** Every page of a listing, in order; pages of a filtered listing may be short or empty. */
export async function listPages(q: QueueFixture, filter: ListFilter, limit: number): Promise<TaskRecord[][]> {
  const out: TaskRecord[][] = [];
  let cursor: ListCursor | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const got = await q.repo.list(filter, limit, cursor);
    expect(got.tasks.length).toBeLessThanOrEqual(limit);
    out.push(got.tasks);
    if (!got.next) return out;
    cursor = got.next;
  }
  throw new Error('pagination did not end');
}
