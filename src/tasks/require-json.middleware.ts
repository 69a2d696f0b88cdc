import { BadRequestException, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { BATCH_MAX_TASKS, TASK_MAX_PROPERTIES } from '../queue/task-limits';

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

/** JSON.parse keeps "__proto__" as an own key, which class-transformer would silently drop. */
function assertTaskObject(value: unknown, where: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestException(`${where} must be a JSON object`);
  }
  const count = Object.keys(value).length;
  if (count > TASK_MAX_PROPERTIES) {
    throw new BadRequestException(
      `${where} has ${count} properties; a task has only type, payload, max_retry, delay_ms, run_at, priority, timeout_ms and backoff (and idempotency_key in a batch)`,
    );
  }
  for (const key of FORBIDDEN_KEYS) {
    if (Object.prototype.hasOwnProperty.call(value, key)) {
      throw new BadRequestException(`${where === 'body' ? '' : `${where}: `}property ${key} should not exist`);
    }
  }
}

function assertJsonContentType(req: Request): void {
  if (!req.is('application/json')) {
    const got = req.headers['content-type'];
    throw new BadRequestException(`Content-Type must be application/json (got ${got ? `"${got}"` : 'none'})`);
  }
}

/** Checks the shape of a batch: an array of 1..BATCH_MAX_TASKS objects. */
export function assertTaskBatch(body: unknown): asserts body is unknown[] {
  if (!Array.isArray(body)) throw new BadRequestException('body must be a JSON array of tasks');
  if (body.length === 0 || body.length > BATCH_MAX_TASKS) {
    throw new BadRequestException(`a batch holds 1 to ${BATCH_MAX_TASKS} tasks (got ${body.length})`);
  }
  body.forEach((item, i) => assertTaskObject(item, `[${i}]`));
}

/**
 * POST /tasks: the body must be declared as JSON (anything else would reach validation as an empty
 * object) and be one JSON object. Field validation follows in the DTO pipe.
 *
 * Each middleware is bound to its own route (TasksModule), so Express' matching decides which check
 * runs: it is case-insensitive and ignores a trailing slash (`/TASKS/Batch/` is the batch route), which
 * a test on `req.path` would get wrong.
 */
@Injectable()
export class RequireJsonMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    assertJsonContentType(req);
    assertTaskObject(req.body, 'body');
    next();
  }
}

/** POST /tasks/batch: JSON, and an array of 1..BATCH_MAX_TASKS objects. */
@Injectable()
export class RequireJsonBatchMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    assertJsonContentType(req);
    assertTaskBatch(req.body);
    next();
  }
}
