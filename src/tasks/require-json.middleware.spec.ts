import { BadRequestException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequireJsonBatchMiddleware, RequireJsonMiddleware, taskObjectProblem } from './require-json.middleware';
import { TaskBatchPipe } from './task-batch.pipe';
import { TASK_MAX_PROPERTIES } from '../queue/task-limits';
import type { TasksService } from './tasks.service';

const jsonRequest = (body: unknown, contentType = 'application/json'): Request =>
  ({ body, headers: { 'content-type': contentType, 'content-length': '10' } }) as unknown as Request;
/** As body-parser leaves a request that came without a body (no Content-Length, no Transfer-Encoding). */
const bodiless = (contentType?: string): Request => ({ body: undefined, headers: contentType ? { 'content-type': contentType } : {} }) as unknown as Request;

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
    for (const scalar of [null, 5, true]) expect(messageOf(() => use(jsonRequest(scalar)))).toBe('body must be a JSON object');
  });

  it('says a body is empty when it is, not that a JSON Content-Type is wrong (regression: "must be application/json (got "application/json")")', () => {
    expect(messageOf(() => use(bodiless('application/json')))).toBe('request body is empty: send a JSON object');
    expect(messageOf(() => use(bodiless()))).toBe('request body is empty: send a JSON object');
    expect(messageOf(() => use(bodiless('text/plain')))).toBe('Content-Type must be application/json (got "text/plain")');
    expect(() => use(jsonRequest({ type: 'echo' }, 'Application/JSON; charset=utf-8'))).not.toThrow();
  });

  it(`rejects an object with more than ${TASK_MAX_PROPERTIES} properties before field validation`, () => {
    const wide = Object.fromEntries(Array.from({ length: TASK_MAX_PROPERTIES + 1 }, (_, i) => [`k${i}`, i]));
    expect(messageOf(() => use(jsonRequest(wide)))).toBe(
      `body has ${TASK_MAX_PROPERTIES + 1} properties; a task has only type, payload, max_retry, delay_ms, run_at, queue, priority, timeout_ms and backoff (and idempotency_key in a batch)`,
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
    expect(messageOf(() => use(jsonRequest(null)))).toBe('body must be a JSON array of tasks');
    expect(messageOf(() => use(bodiless('application/json')))).toBe('request body is empty: send a JSON array of tasks');
  });
});

describe('taskObjectProblem', () => {
  it('names what makes a value no task object; the subject only for a body', () => {
    expect(taskObjectProblem(5)).toBe('must be a JSON object');
    expect(taskObjectProblem([], 'body')).toBe('body must be a JSON object');
    expect(taskObjectProblem(JSON.parse('{"__proto__":{}}'))).toBe('property __proto__ should not exist');
    expect(taskObjectProblem({ type: 'echo' })).toBeUndefined();
  });
});

describe('TaskBatchPipe', () => {
  it('answers 400, not a TypeError, when it is handed something other than an array', async () => {
    for (const value of [{ type: 'echo' }, 'x', null, undefined]) {
      await expect(new TaskBatchPipe({} as TasksService).transform(value, { type: 'body' })).rejects.toBeInstanceOf(BadRequestException);
    }
  });
});
