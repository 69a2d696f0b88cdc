import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

interface Task {
  id: string;
  status: string;
  payload: string;
  created_at: string;
}

/** Idempotency-Key on POST /tasks and idempotency_key in batch elements, over HTTP against real Redis. */
describe('idempotency keys', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('idempotency');
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2' });
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  const post = (body: unknown, key?: string | string[]) => {
    const req = request(t.http).post('/tasks');
    // An array is sent as one header line per value (Node's setHeader).
    if (key !== undefined) req.set('Idempotency-Key', key as string);
    return req.send(body as object);
  };
  /** How many stored tasks carry this payload (the listing reads every task hash of the queue). */
  const storedWithPayload = async (payload: string): Promise<number> =>
    ((await request(t.http).get('/tasks?limit=1000').expect(200)).body as Task[]).filter((x) => x.payload === payload).length;

  it('50 concurrent identical requests create exactly one task: one 201, 49 answers of 200 with that task', async () => {
    const key = `order-${randomUUID()}`;
    const payload = `concurrent-${key}`;

    const answers = await Promise.all(Array.from({ length: 50 }, () => post({ type: 'echo', payload }, key)));

    const created = answers.filter((r) => r.status === 201);
    const replayed = answers.filter((r) => r.status === 200);
    expect(created).toHaveLength(1);
    expect(replayed).toHaveLength(49);
    const original = created[0].body as Task;
    for (const r of replayed) {
      expect(r.headers['idempotent-replayed']).toBe('true');
      expect((r.body as Task).id).toBe(original.id);
      expect((r.body as Task).created_at).toBe(original.created_at);
    }
    expect(created[0].headers['idempotent-replayed']).toBeUndefined();
    expect(await storedWithPayload(payload)).toBe(1);
  }, 30_000);

  it('the same request in another key order, spacing or run_at offset is a repeat (200)', async () => {
    const key = randomUUID();
    const first = await post({ type: 'echo', payload: 'canon', priority: 'low', run_at: '2001-02-03T04:05:06Z', backoff: { type: 'fixed', delay_ms: 5 } }, key).expect(201);
    const text = '{ "backoff": {"delay_ms":5, "type":"fixed"}, "run_at": "2001-02-03T05:05:06+01:00", "priority":"low",  "payload": "canon", "type": "echo" }';

    const again = await request(t.http).post('/tasks').set('Idempotency-Key', key).set('Content-Type', 'application/json').send(text).expect(200);

    expect(again.body.id).toBe(first.body.id);
  });

  it('the same key with another body: 422 naming the key, nothing created', async () => {
    const key = `conflict-${randomUUID()}`;
    await post({ type: 'echo', payload: 'one' }, key).expect(201);

    const res = await post({ type: 'echo', payload: 'two' }, key).expect(422);

    expect(res.body).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: `Idempotency-Key "${key}" was already used with a different request body`,
    });
    expect(await storedWithPayload('two')).toBe(0);
  });

  it('queue left out is not queue "default" (422); a key is scoped to the queue its task goes to', async () => {
    const key = `queue-${randomUUID()}`;
    const plain = (await post({ type: 'echo', payload: 'scoped' }, key).expect(201)).body as Task;
    const res = await post({ type: 'echo', payload: 'scoped', queue: 'default' }, key).expect(422);
    expect(res.body.message).toBe(`Idempotency-Key "${key}" was already used with a different request body`);

    // The same key in another queue is another key: a task there, replayed there.
    const emails = (await post({ type: 'echo', payload: 'scoped', queue: 'emails' }, key).expect(201)).body as Task;
    expect(emails.id).toMatch(/^emails\./);
    expect((await post({ type: 'echo', payload: 'scoped', queue: 'emails' }, key).expect(200)).body.id).toBe(emails.id);
    expect((await post({ type: 'echo', payload: 'scoped' }, key).expect(200)).body.id).toBe(plain.id);
  });

  it('after the task finished: 200 with it as it is now; after it was deleted: 410', async () => {
    const key = randomUUID();
    const created = (await post({ type: 'echo', payload: 'finish' }, key).expect(201)).body as Task;
    await waitFor(async () => ((await request(t.http).get(`/tasks/${created.id}`)).body.status === 'completed' ? true : undefined), {
      what: 'the task to complete',
    });

    const afterDone = await post({ type: 'echo', payload: 'finish' }, key).expect(200);
    expect(afterDone.body).toMatchObject({ id: created.id, status: 'completed', result: 'echo: finish' });

    await request(t.http).delete(`/tasks/${created.id}`).expect(204);
    const gone = await post({ type: 'echo', payload: 'finish' }, key).expect(410);
    expect(gone.body.message).toBe(`the task created with Idempotency-Key "${key}" no longer exists (deleted, or removed after TASK_RETENTION_S)`);
    // Another body is still a conflict, not a way around the key.
    await post({ type: 'echo', payload: 'other' }, key).expect(422);
  });

  it.each<[string, string | string[], string]>([
    ['empty', '', 'Idempotency-Key must be 1 to 255 printable ASCII characters'],
    ['256 characters', 'k'.repeat(256), 'Idempotency-Key must be 1 to 255 printable ASCII characters'],
    ['a byte outside ASCII', 'caf\u00e9', 'Idempotency-Key must be 1 to 255 printable ASCII characters'],
    ['given twice', ['a', 'b'], 'Idempotency-Key must be given once'],
  ])('a key that is %s: 400, nothing created', async (_what, key, message) => {
    const payload = `bad-key-${randomUUID()}`;
    const res = await post({ type: 'echo', payload }, key).expect(400);
    expect(res.body.message).toBe(message);
    expect(await storedWithPayload(payload)).toBe(0);
  });

  it('255 printable characters (spaces and braces too) are a valid key', async () => {
    const key = `{x} ${'~'.repeat(251)}`;
    const first = await post({ type: 'echo', payload: 'long-key' }, key).expect(201);
    expect((await post({ type: 'echo', payload: 'long-key' }, key).expect(200)).body.id).toBe(first.body.id);
  });

  describe('batch elements (idempotency_key)', () => {
    it('a repeated batch creates nothing and answers 200 with the original tasks, naming every element as replayed', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const batch = [
        { type: 'echo', payload: 'b1', idempotency_key: a },
        { type: 'echo', payload: 'b2', idempotency_key: b },
      ];
      const first = await request(t.http).post('/tasks/batch').send(batch).expect(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      const again = await request(t.http).post('/tasks/batch').send(batch).expect(200);

      expect(again.headers['idempotent-replayed']).toBe('0,1');
      expect(again.body.map((x: Task) => x.id)).toEqual(first.body.map((x: Task) => x.id));
      expect(await storedWithPayload('b1')).toBe(1);
    });

    it('repeats mixed with new elements: 201, the new ones created, the repeats answered with their tasks and named', async () => {
      const key = randomUUID();
      const single = (await post({ type: 'echo', payload: 'mixed' }, key).expect(201)).body as Task;

      const res = await request(t.http)
        .post('/tasks/batch')
        .send([
          { type: 'echo', payload: 'mixed-new' },
          // The key space is shared with the Idempotency-Key header.
          { type: 'echo', payload: 'mixed', idempotency_key: key },
          { type: 'echo', payload: 'mixed-twice', idempotency_key: `${key}-2` },
          { type: 'echo', payload: 'mixed-twice', idempotency_key: `${key}-2` },
        ])
        .expect(201);

      expect(res.headers['idempotent-replayed']).toBe('1,3');
      expect(res.body[1].id).toBe(single.id);
      expect(res.body[3].id).toBe(res.body[2].id);
      expect(await storedWithPayload('mixed-twice')).toBe(1);
    });

    it('one conflicting element: 422 naming it and its key, nothing of the batch created', async () => {
      const key = randomUUID();
      await post({ type: 'echo', payload: 'c1' }, key).expect(201);

      const res = await request(t.http)
        .post('/tasks/batch')
        .send([
          { type: 'echo', payload: 'fresh-in-rejected-batch' },
          { type: 'echo', payload: 'c2', idempotency_key: key },
        ])
        .expect(422);

      expect(res.body.message).toBe(`no task was created: [1] idempotency_key "${key}" was already used with a different request body`);
      expect(await storedWithPayload('fresh-in-rejected-batch')).toBe(0);
    });

    it('an element whose task was deleted: 410 naming it, nothing of the batch created', async () => {
      const key = randomUUID();
      const created = (await post({ type: 'echo', payload: 'd1' }, key).expect(201)).body as Task;
      await request(t.http).delete(`/tasks/${created.id}`).expect(204);

      const res = await request(t.http)
        .post('/tasks/batch')
        .send([
          { type: 'echo', payload: 'fresh-in-gone-batch' },
          { type: 'echo', payload: 'd1', idempotency_key: key },
        ])
        .expect(410);

      expect(res.body.message).toMatch(/^no task was created: \[1\] the task created with idempotency_key ".+" no longer exists/);
      expect(await storedWithPayload('fresh-in-gone-batch')).toBe(0);
    });

    it('a one-element batch answers its 422 and 410 with the prefix and index of any batch', async () => {
      const key = randomUUID();
      const created = (await post({ type: 'echo', payload: 'o1' }, key).expect(201)).body as Task;
      const conflict = await request(t.http).post('/tasks/batch').send([{ type: 'echo', payload: 'o2', idempotency_key: key }]).expect(422);
      expect(conflict.body.message).toBe(`no task was created: [0] idempotency_key "${key}" was already used with a different request body`);
      await request(t.http).delete(`/tasks/${created.id}`).expect(204);
      const gone = await request(t.http).post('/tasks/batch').send([{ type: 'echo', payload: 'o1', idempotency_key: key }]).expect(410);
      expect(gone.body.message).toBe(
        `no task was created: [0] the task created with idempotency_key "${key}" no longer exists (deleted, or removed after TASK_RETENTION_S)`,
      );
      const badKey = await request(t.http).post('/tasks/batch').send([{ type: 'echo', idempotency_key: '' }]).expect(400);
      expect(badKey.body.message).toBe('no task was created: [0] idempotency_key must be 1 to 255 printable ASCII characters');
    });

    it('an element\'s queue is part of its body, and its key is scoped to that queue', async () => {
      const key = randomUUID();
      const batch = (queue?: string) => request(t.http).post('/tasks/batch').send([{ type: 'echo', payload: 'b-scoped', idempotency_key: key, ...(queue && { queue }) }]);
      const plain = (await batch().expect(201)).body[0] as Task;
      expect((await batch('default').expect(422)).body.message).toMatch(/idempotency_key ".+" was already used with a different request body$/);
      const emails = (await batch('emails').expect(201)).body[0] as Task;
      expect(emails.id).toMatch(/^emails\./);
      expect((await batch('emails').expect(200)).body[0].id).toBe(emails.id);
      expect((await batch().expect(200)).body[0].id).toBe(plain.id);
    });

    it('a bad idempotency_key is a 400 naming the element', async () => {
      const res = await request(t.http)
        .post('/tasks/batch')
        .send([{ type: 'echo' }, { type: 'echo', idempotency_key: '' }])
        .expect(400);
      expect(res.body.message).toBe('no task was created: [1] idempotency_key must be 1 to 255 printable ASCII characters');
    });
  });
});
