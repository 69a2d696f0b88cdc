import { BadRequestException, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { BATCH_MAX_TASKS } from './task-limits';

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

/** JSON.parse keeps "__proto__" as an own key, which class-transformer would silently drop. */
function assertTaskObject(value: unknown, where: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestException(`${where} must be a JSON object`);
  }
  for (const key of FORBIDDEN_KEYS) {
    if (Object.prototype.hasOwnProperty.call(value, key)) {
      throw new BadRequestException(`${where === 'body' ? '' : `${where}: `}property ${key} should not exist`);
    }
  }
}

/**
 * Submissions must be declared as JSON (anything else would reach validation as an empty object)
 * and have the right shape: an object for POST /tasks, an array of 1..BATCH_MAX_TASKS objects for
 * POST /tasks/batch. Field validation follows in the DTO pipes.
 */
@Injectable()
export class RequireJsonMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    if (!req.is('application/json')) {
      const got = req.headers['content-type'];
      throw new BadRequestException(`Content-Type must be application/json (got ${got ? `"${got}"` : 'none'})`);
    }
    const body: unknown = req.body;
    if (req.path.endsWith('/batch')) {
      if (!Array.isArray(body)) throw new BadRequestException('body must be a JSON array of tasks');
      if (body.length === 0 || body.length > BATCH_MAX_TASKS) {
        throw new BadRequestException(`a batch holds 1 to ${BATCH_MAX_TASKS} tasks (got ${body.length})`);
      }
      body.forEach((item, i) => assertTaskObject(item, `[${i}]`));
    } else {
      assertTaskObject(body, 'body');
    }
    next();
  }
}
