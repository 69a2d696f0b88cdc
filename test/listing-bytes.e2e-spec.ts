import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { LIST_PAGE_MAX_BYTES } from '../src/queue/task-limits';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

const TASKS = 1000;
/**
 * 64 KiB: a page of limit=1000 would be 64 MiB, eight times the budget, so the cut shows at about 128
 * tasks a page; larger payloads prove no more and cost the suite's time (512 KiB took 27 s).
 */
const PAYLOAD_BYTES = 64 * 1024;
/** Tasks per enqueue call: 8 MiB of payloads per script call. */
const STORE_BATCH = 128;

/**
 * Large payloads against the listing: 1000 tasks of 64 KiB (64 MiB in Redis, stored through the
 * repository under this suite's own prefix and deleted afterwards). One page stops at the byte budget
 * (LIST_PAGE_MAX_BYTES) instead of reading every hash the limit allows, and hands out a cursor, so
 * `GET /tasks?limit=1000` answers with fewer tasks and a Link, never a 500.
 */
describe('GET /tasks with large payloads: a byte budget per page', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('listbytes');
  let t: TestApp;
  const ids = new Set<string>();

  beforeAll(async () => {
    // A page reads about 8 MiB in one script call: on a busy CI machine that has taken over the default
    // 1 s command timeout (a 503). The timeout is not what this suite is about, so it gets room.
    t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', REDIS_COMMAND_TIMEOUT_MS: '9000' });
    const payload = 'p'.repeat(PAYLOAD_BYTES);
    for (let i = 0; i < TASKS; i += STORE_BATCH) {
      const batch = Array.from({ length: Math.min(STORE_BATCH, TASKS - i) }, () => ({ id: randomUUID(), type: 'echo', payload, maxRetry: 0 }));
      await t.queue.enqueue(batch);
      for (const task of batch) ids.add(task.id);
    }
  }, 300_000);
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  }, 120_000);

  it('answers limit=1000 with a page cut at the byte budget and a next link; the links lead to every task exactly once', async () => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    const links: Array<string | undefined> = [];
    let next: string | undefined = '/tasks?limit=1000';
    while (next && pageSizes.length < TASKS) {
      const res: request.Response = await request(t.http).get(next);
      expect(res.status).toBe(200);
      const page = res.body as Array<{ id: string; payload: string }>;
      expect(page.length).toBeGreaterThan(0);
      for (const task of page) {
        expect(task.payload).toHaveLength(PAYLOAD_BYTES);
        seen.push(task.id);
      }
      pageSizes.push(page.length);
      const link = res.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      links.push(link);
    }

    // The first page is cut by bytes, not by the limit: about budget / task size, plus the one that crossed it.
    const perPage = Math.ceil(LIST_PAGE_MAX_BYTES / PAYLOAD_BYTES);
    expect(pageSizes[0]).toBeLessThan(TASKS);
    expect(pageSizes[0]).toBeLessThanOrEqual(perPage + 1);
    expect(pageSizes.length).toBeGreaterThan(1);
    // Every page but the last links to the next one, keeping the limit.
    expect(links.slice(0, -1).every((l) => /^<\/tasks\?limit=1000&cursor=[^>]+>; rel="next"$/.test(l ?? ''))).toBe(true);
    expect(links[links.length - 1]).toBeUndefined();
    expect(seen).toHaveLength(TASKS);
    expect(new Set(seen)).toEqual(ids);
  }, 300_000);
});
