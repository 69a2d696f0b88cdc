import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { QueueRepository, ListFilter } from '../../src/queue/queue.repository';
import { RedisConnections } from '../../src/queue/redis-connections';
import { newTaskId } from '../../src/queue/task-id';
import { ListCursor } from '../../src/queue/task.model';
import { RedisServer } from '../../tools/dev/redis-server';
import { silentLogger } from '../support/queue-harness';
import { uniquePrefix } from '../support/redis';
import { testConfig } from '../support/test-app';

const LOCALE = 'en_US.UTF-8';

/**
 * Builds the en_US.UTF-8 locale into a directory of its own (glibc reads it from LOCPATH; no root
 * needed, nothing installed system-wide). Needs localedef and the locale sources (Debian: libc-bin
 * and `locales`, which .ci/run installs when they are missing).
 */
function buildLocale(dir: string): void {
  const out = join(dir, LOCALE);
  try {
    execFileSync('localedef', ['-i', 'en_US', '-f', 'UTF-8', out], { stdio: 'pipe' });
  } catch (err) {
    // localedef exits non-zero on mere warnings; what counts is the collation table it wrote.
    if (!existsSync(join(out, 'LC_COLLATE'))) {
      throw new Error(`cannot build the ${LOCALE} locale with localedef (install the 'locales' package; .ci/run does): ${String(err)}`);
    }
  }
}

/** Byte order, descending: the order of a zset's members of one score, read from the top. */
const byteDesc = (a: string, b: string) => Buffer.compare(Buffer.from(b), Buffer.from(a));

/**
 * Listing pages through tasks of one score by id, in byte order, whatever locale redis-server runs
 * in. Lua compares strings with strcoll, and redis-server takes LC_COLLATE from its environment:
 * under en_US.UTF-8, 'a' < 'B' and '-' / '_' weigh last, while a zset orders members of one score by
 * memcmp. list.lua compared ids with Lua's `<`, so a cursor inside a tie skipped and repeated tasks on
 * such a server (ids of one enqueue call share their creation time, those of one settle call their
 * finish time).
 */
describe('list.lua under a redis-server started in the en_US.UTF-8 locale', () => {
  let localeDir: string;
  let server: RedisServer;
  let raw: Redis;
  let connections: RedisConnections;
  let repo: QueueRepository;

  beforeAll(async () => {
    localeDir = mkdtempSync(join(tmpdir(), 'taskqueue-locale-'));
    buildLocale(localeDir);
    server = await RedisServer.start({ persistence: 'none', env: { LOCPATH: localeDir, LC_ALL: LOCALE } });
    raw = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${server.port}`, QUEUE_PREFIX: uniquePrefix('locale') });
    connections = new RedisConnections(config, silentLogger);
    await connections.onModuleInit();
    repo = new QueueRepository(connections, config);
  }, 60_000);

  afterAll(async () => {
    await connections?.onApplicationShutdown();
    raw?.disconnect();
    await server?.destroy();
    if (localeDir) rmSync(localeDir, { recursive: true, force: true });
  });

  it('the server collates by the locale (else this spec could not fail)', async () => {
    expect(await raw.eval("return tostring('a' < 'B')", 0)).toBe('true');
    expect(await raw.eval("return tostring('a-z' < 'aa')", 0)).toBe('false');
  });

  it('every task once, ties in byte order: pending, processing, completed and failed, and all of them', async () => {
    // Ids whose order differs between strcoll (en_US) and bytes, and ids as the API makes them.
    const made = ['zz', 'aa', 'a_', 'aB', 'a0', 'a-', '_a', 'Zz', 'Ab', 'AB', '0a', '-a'].map((s) => `QqQqQqQqQqQqQqQqQqQq${s}`);
    const ids = [...made, ...Array.from({ length: 108 }, () => newTaskId())];
    // One call: one creation time for all.
    await repo.enqueue(ids.map((id) => ({ id, type: 'job', payload: '{}', maxRetry: 0 })));
    const { tasks: leased } = await repo.fetch(60, 60_000);
    expect(leased).toHaveLength(60);
    // One call: one finish time for the finished ones.
    const finishing = leased.slice(0, 30);
    const results = await repo.settle(finishing.map((lease, i) => ({ lease, mode: i % 2 === 0 ? 'complete' : 'fail', text: 'x' }) as const));
    expect(results.every((r) => r === 'applied')).toBe(true);

    const finished = finishing.map((l) => l.id);
    const processing = leased.slice(30).map((l) => l.id);
    const pending = ids.filter((id) => !leased.some((l) => l.id === id));
    const completed = finished.filter((_, i) => i % 2 === 0);
    const failed = finished.filter((_, i) => i % 2 === 1);
    const cases: Array<[ListFilter, string[]]> = [
      [{ status: 'pending' }, pending.sort(byteDesc)],
      [{ status: 'processing' }, [...processing].sort(byteDesc)],
      [{ status: 'completed' }, completed.sort(byteDesc)],
      [{ status: 'failed' }, failed.sort(byteDesc)],
      // Open part (pending and processing merged), then the finished part (completed and failed merged).
      [{}, [...[...pending, ...processing].sort(byteDesc), ...[...completed, ...failed].sort(byteDesc)]],
    ];
    for (const [filter, expected] of cases) {
      for (const limit of [1, 7, 50]) {
        const listed: string[] = [];
        let cursor: ListCursor | undefined;
        for (let page = 0; page < 500; page += 1) {
          const got = await repo.list(filter, limit, cursor);
          listed.push(...got.tasks.map((t) => t.id));
          cursor = got.next;
          if (!cursor) break;
        }
        expect({ filter, limit, listed }).toEqual({ filter, limit, listed: expected });
      }
    }
  }, 60_000);
});
