import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, keysByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

/** A test-only task type whose payload validation throws what the payload asks for. */
@Injectable()
@TaskHandler('picky', { payload: 'string' })
class PickyHandler implements TaskHandler {
  validatePayload(payload: string): void {
    if (payload === 'type-error') {
      const missing = undefined as unknown as { length: number };
      void missing.length; // a bug in the validator: TypeError
    }
    if (payload === 'plain-error') throw new Error('picky does not like this');
    if (payload === 'a-string') throw 'picky threw a string';
  }

  async handle(payload: string): Promise<string> {
    return payload;
  }
}

/** Submissions refused before anything is stored: payloads over MAX_PAYLOAD_BYTES (413), payloads a validator throws on (400). */
describe('submission limits', () => {
  const redis = testRedis();

  afterAll(() => redis.disconnect());

  describe('with the defaults (MAX_PAYLOAD_BYTES 512 KiB, BODY_LIMIT 1mb)', () => {
    const prefix = uniquePrefix('limits');
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api' }, { providers: [PickyHandler] });
    });
    afterAll(async () => {
      await t.close();
      await deleteByPrefix(redis, prefix);
    });

    it('a 600 KiB payload is a 413 naming the limit, and nothing is stored', async () => {
      const res = await request(t.http).post('/tasks').send({ type: 'echo', payload: 'x'.repeat(600 * 1024) });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'payload is 614400 bytes; the limit is 524288 bytes (MAX_PAYLOAD_BYTES)',
      });
      expect(await keysByPrefix(redis, prefix)).toEqual([]);
    });

    it('in a batch, a 600 KiB payload is a 413 naming the element and the limit, and no task of the batch is stored', async () => {
      const res = await request(t.http)
        .post('/tasks/batch')
        .send([{ type: 'echo', payload: 'small' }, { type: 'echo', payload: 'x'.repeat(600 * 1024) }, { type: 'echo' }]);
      expect(res.status).toBe(413);
      expect(res.body.message).toBe('no task was created: [1] payload is 614400 bytes; the limit is 524288 bytes (MAX_PAYLOAD_BYTES)');
      expect(await keysByPrefix(redis, prefix)).toEqual([]);
    });

    it('a payload of exactly MAX_PAYLOAD_BYTES is accepted', async () => {
      await request(t.http).post('/tasks').send({ type: 'echo', payload: 'x'.repeat(512 * 1024) }).expect(201);
    });

    it.each([
      ['a TypeError (a bug in the validator)', 'type-error', /^payload: .*(undefined|length)/],
      ['a plain Error', 'plain-error', /^payload: picky does not like this$/],
      ['a thrown string', 'a-string', /^payload: picky threw a string$/],
    ])('a validatePayload that throws %s is a 400, not a 500', async (_what, payload, message) => {
      const res = await request(t.http).post('/tasks').send({ type: 'picky', payload });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    });

    it('in a batch, a validatePayload that throws anything is a 400 naming the element, and nothing is stored', async () => {
      const before = await keysByPrefix(redis, prefix);
      const res = await request(t.http)
        .post('/tasks/batch')
        .send([{ type: 'picky', payload: 'fine' }, { type: 'picky', payload: 'type-error' }, { type: 'picky', payload: 'plain-error' }]);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^no task was created: \[1\] payload: .+; \[2\] payload: picky does not like this$/);
      expect(await keysByPrefix(redis, prefix)).toEqual(before);
    });

    it('the test-only type is accepted when its validator passes', async () => {
      await request(t.http).post('/tasks').send({ type: 'picky', payload: 'fine' }).expect(201);
    });
  });

  describe('bytes are counted as UTF-8 (MAX_PAYLOAD_BYTES=1000)', () => {
    const prefix = uniquePrefix('limits-utf8');
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', MAX_PAYLOAD_BYTES: '1000' });
    });
    afterAll(async () => {
      await t.close();
      await deleteByPrefix(redis, prefix);
    });

    it('500 two-byte characters (1000 bytes) are accepted; 501 (1002 bytes, 501 characters) are not', async () => {
      await request(t.http).post('/tasks').send({ type: 'echo', payload: 'é'.repeat(500) }).expect(201);
      const res = await request(t.http).post('/tasks').send({ type: 'echo', payload: 'é'.repeat(501) });
      expect(res.status).toBe(413);
      expect(res.body.message).toBe('payload is 1002 bytes; the limit is 1000 bytes (MAX_PAYLOAD_BYTES)');
    });

    it('four-byte characters count four bytes each', async () => {
      const res = await request(t.http).post('/tasks').send({ type: 'echo', payload: '😀'.repeat(251) });
      expect(res.status).toBe(413);
      expect(res.body.message).toBe('payload is 1004 bytes; the limit is 1000 bytes (MAX_PAYLOAD_BYTES)');
    });
  });
});
