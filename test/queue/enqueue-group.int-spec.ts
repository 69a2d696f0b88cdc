import Redis from 'ioredis';
import { DuplicateTaskIdError, QueueUnavailableError } from '../../src/queue/queue-errors';
import { QueueRepository, SubmitResult } from '../../src/queue/queue.repository';
import { RedisConnections } from '../../src/queue/redis-connections';
import { newTaskId } from '../../src/queue/task-id';
import { NewTask } from '../../src/queue/task.model';
import { RedisServer } from '../../tools/dev/redis-server';
import { silentLogger } from '../support/queue-harness';
import { testConfig } from '../support/test-app';

/**
 * Group commit of enqueues against a real Redis of its own (INFO commandstats counts every script call
 * of this spec only): the submits of one tick share one enqueue.lua call, each caller gets its own answer.
 */
describe('enqueue group commit', () => {
  let server: RedisServer;
  let probe: Redis;
  let connections: RedisConnections;
  let repo: QueueRepository;

  beforeAll(async () => {
    server = await RedisServer.start({ persistence: 'none' });
    probe = new Redis(server.url);
    const config = testConfig({ REDIS_URL: server.url, QUEUE_PREFIX: 'group' });
    connections = new RedisConnections(config, silentLogger);
    await connections.onModuleInit();
    repo = new QueueRepository(connections, config);
  });
  afterAll(async () => {
    await connections.onApplicationShutdown();
    probe.disconnect();
    await server.destroy();
  });

  /** Script calls (EVALSHA + EVAL) Redis executed since the last reset. */
  async function scriptCalls(): Promise<number> {
    const info = await probe.info('commandstats');
    let calls = 0;
    for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(m[1]);
    return calls;
  }

  const task = (extra: Partial<NewTask> = {}): NewTask => ({ id: newTaskId(), type: 'echo', payload: '"p"', maxRetry: 3, ...extra });
  const settled = (p: Promise<SubmitResult>) => p.then((ok) => ({ ok }), (err: unknown) => ({ err }));

  it('50 submits in one tick: two script calls of 25 (a loop turn apart), every task stored, each caller answered with its own creation', async () => {
    await repo.enqueue([task()]); // scripts loaded
    await probe.config('RESETSTAT');
    const tasks = Array.from({ length: 50 }, () => task());
    const createdAt = await Promise.all(tasks.map((t) => repo.enqueue([t])));

    expect(await scriptCalls()).toBe(2);
    expect(new Set(createdAt.slice(0, 25)).size).toBe(1);
    expect(new Set(createdAt.slice(25)).size).toBe(1);
    for (const [i, t] of tasks.entries()) {
      expect(await repo.get(t.id)).toMatchObject({ id: t.id, status: 'pending', createdAt: createdAt[i] });
    }
  });

  it('a duplicate id fails its own caller only; an idempotency replay and a key conflict reach theirs', async () => {
    const existing = task({ idempotencyKey: 'k-old', requestHash: 'h1' });
    await repo.submit([existing]);
    const fresh = [task(), task(), task()];
    const dup = task({ id: existing.id });
    const replay = task({ idempotencyKey: 'k-old', requestHash: 'h1' });
    const conflict = task({ idempotencyKey: 'k-old', requestHash: 'other' });
    const keyed = task({ idempotencyKey: 'k-new', requestHash: 'h2' });

    const [a, d, r, b, k, c] = await Promise.all([
      settled(repo.submit([fresh[0]])),
      settled(repo.submit([dup])),
      settled(repo.submit([replay])),
      settled(repo.submit([fresh[1], fresh[2]])),
      settled(repo.submit([keyed])),
      settled(repo.submit([conflict])),
    ]);

    expect((d as { err: unknown }).err).toBeInstanceOf(DuplicateTaskIdError);
    expect(a).toEqual({ ok: expect.objectContaining({ outcomes: [{ kind: 'created' }], rejected: false }) });
    expect(b).toEqual({ ok: expect.objectContaining({ outcomes: [{ kind: 'created' }, { kind: 'created' }], rejected: false }) });
    expect(k).toEqual({ ok: expect.objectContaining({ outcomes: [{ kind: 'created' }], rejected: false }) });
    expect(r).toEqual({ ok: expect.objectContaining({ outcomes: [{ kind: 'replayed', task: expect.objectContaining({ id: existing.id }) }] }) });
    expect(c).toEqual({ ok: expect.objectContaining({ outcomes: [{ kind: 'conflict' }], rejected: true }) });
    for (const t of [...fresh, keyed]) expect(await repo.get(t.id)).toMatchObject({ id: t.id, status: 'pending' });
    for (const t of [replay, conflict]) expect(await repo.get(t.id)).toBeUndefined();
    expect(await repo.get(existing.id)).toMatchObject({ createdAt: expect.any(Number) });
  });

  it('two callers with the same new key in one tick: the first creates, the second replays that task', async () => {
    const first = task({ idempotencyKey: 'k-twice', requestHash: 'h' });
    const second = task({ idempotencyKey: 'k-twice', requestHash: 'h' });
    const [one, two] = await Promise.all([repo.submit([first]), repo.submit([second])]);
    expect(one.outcomes).toEqual([{ kind: 'created' }]);
    expect(two.outcomes).toEqual([{ kind: 'replayed', task: expect.objectContaining({ id: first.id }) }]);
    expect(await repo.get(second.id)).toBeUndefined();
  });

  it('Redis down: every caller of the call gets the same QueueUnavailableError; once it answers again, submits are stored', async () => {
    await server.kill();
    try {
      const tasks = Array.from({ length: 5 }, () => task());
      const results = await Promise.all(tasks.map((t) => settled(repo.submit([t]))));
      for (const r of results) expect((r as { err: unknown }).err).toBeInstanceOf(QueueUnavailableError);
      expect(new Set(results.map((r) => String((r as { err: unknown }).err))).size).toBe(1);
    } finally {
      await server.restart();
    }
    await connections.whenReady(new AbortController().signal);
    const after = task();
    await repo.enqueue([after]);
    expect(await repo.get(after.id)).toMatchObject({ status: 'pending' });
  });
});
