import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

/** Follows Link rel="next" headers from `path` to the end; returns every task seen, in order. */
async function walk(t: TestApp, path: string): Promise<Array<{ id: string; created_at: string; type: string; status: string }>> {
  const seen = [];
  let next: string | undefined = path;
  while (next) {
    const res = await request(t.http).get(next).expect(200);
    seen.push(...res.body);
    const link = res.headers.link as string | undefined;
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    if (link) expect(next).toBeDefined();
  }
  return seen;
}

describe('GET /tasks listing (API-only process: tasks stay pending)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('list');
  let t: TestApp;
  const created: Array<{ id: string; type: string }> = [];

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' });
    for (let i = 0; i < 25; i += 1) {
      const type = i % 3 === 0 ? 'reverse' : 'echo';
      const res = await request(t.http).post('/tasks').send({ type, payload: `p${i}` }).expect(201);
      created.push({ id: res.body.id, type });
    }
  });
  afterAll(async () => {
    await t.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('returns a JSON array, newest first, default limit 100, no Link when it all fits', async () => {
    const res = await request(t.http).get('/tasks').expect(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((x: { id: string }) => x.id)).toEqual(created.map((c) => c.id).reverse());
    expect(res.headers.link).toBeUndefined();
  });

  it('pages through every task exactly once following Link rel="next"', async () => {
    const seen = await walk(t, '/tasks?limit=4');
    expect(seen.map((x) => x.id)).toEqual(created.map((c) => c.id).reverse());
  });

  it('filters by type and by status, alone and together, with pagination', async () => {
    const reverses = created.filter((c) => c.type === 'reverse').map((c) => c.id).reverse();
    expect((await walk(t, '/tasks?type=reverse&limit=2')).map((x) => x.id)).toEqual(reverses);
    expect((await walk(t, '/tasks?status=pending&type=reverse&limit=3')).map((x) => x.id)).toEqual(reverses);
    expect(await walk(t, '/tasks?status=completed')).toEqual([]);
    expect((await walk(t, '/tasks?status=pending&limit=10')).length).toBe(25);
  });

  it('the Link URL keeps the filters and the limit', async () => {
    const res = await request(t.http).get('/tasks?type=echo&status=pending&limit=5').expect(200);
    expect(res.headers.link).toMatch(/^<\/tasks\?status=pending&type=echo&limit=5&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });
});
