import { BadRequestException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { assertTaskBatch, RequireJsonBatchMiddleware, RequireJsonMiddleware } from './require-json.middleware';
import { TaskBatchPipe } from './task-batch.pipe';
import { TASK_MAX_PROPERTIES } from '../queue/task-limits';

const jsonRequest = (body: unknown, contentType = 'application/json'): Request =>
  ({ body, headers: { 'content-type': contentType }, is: (t: string) => (contentType.startsWith(t) ? t : false) }) as unknown as Request;

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestException);
    return (err as BadRequestException).message;
  }
  throw new Error('did not throw');
}

describe('RequireJsonMiddleware (POST /tasks)', () => {
  const use = (req: Request) => new RequireJsonMiddleware().use(req, {} as Response, () => undefined);

  it('passes a JSON object', () => {
    expect(() => use(jsonRequest({ type: 'echo' }))).not.toThrow();
  });

  it('rejects other content types, arrays and scalars', () => {
    expect(messageOf(() => use(jsonRequest({ type: 'echo' }, 'text/plain')))).toMatch(/Content-Type must be application\/json/);
    expect(messageOf(() => use(jsonRequest([{ type: 'echo' }])))).toBe('body must be a JSON object');
    expect(messageOf(() => use(jsonRequest('echo')))).toBe('body must be a JSON object');
  });

  it(`rejects an object with more than ${TASK_MAX_PROPERTIES} properties before field validation`, () => {
    const wide = Object.fromEntries(Array.from({ length: TASK_MAX_PROPERTIES + 1 }, (_, i) => [`k${i}`, i]));
    expect(messageOf(() => use(jsonRequest(wide)))).toBe(
      `body has ${TASK_MAX_PROPERTIES + 1} properties; a task has only type, payload, max_retry, delay_ms, run_at, priority, timeout_ms and backoff (and idempotency_key in a batch)`,
    );
    const justEnough = Object.fromEntries(Array.from({ length: TASK_MAX_PROPERTIES }, (_, i) => [`k${i}`, i]));
    expect(() => use(jsonRequest(justEnough))).not.toThrow();
  });
});

describe('RequireJsonBatchMiddleware (POST /tasks/batch)', () => {
  const use = (req: Request) => new RequireJsonBatchMiddleware().use(req, {} as Response, () => undefined);

  it('passes an array of objects and rejects an object (regression: /tasks/BATCH with an object was a 500)', () => {
    expect(() => use(jsonRequest([{ type: 'echo' }]))).not.toThrow();
    expect(messageOf(() => use(jsonRequest({ type: 'echo' })))).toBe('body must be a JSON array of tasks');
  });

  it('names the element that is not a task object', () => {
    expect(messageOf(() => assertTaskBatch([{ type: 'echo' }, 5]))).toBe('[1] must be a JSON object');
    expect(messageOf(() => assertTaskBatch([JSON.parse('{"__proto__":{}}')]))).toBe('[0]: property __proto__ should not exist');
  });
});

describe('TaskBatchPipe', () => {
  it('answers 400, not a TypeError, when it is handed something other than an array', async () => {
    for (const value of [{ type: 'echo' }, 'x', null, undefined]) {
      await expect(new TaskBatchPipe().transform(value, { type: 'body' })).rejects.toBeInstanceOf(BadRequestException);
    }
  });
});
