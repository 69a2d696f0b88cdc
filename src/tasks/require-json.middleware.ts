import { BadRequestException, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { getMetadataStorage } from 'class-validator';
import { isEmptyBody } from '../http/json-body';
import { BATCH_MAX_TASKS, TASK_MAX_PROPERTIES } from '../queue/task-limits';
import { CreateBatchTaskDto } from './dto/create-batch-task.dto';
import { CreateTaskDto } from './dto/create-task.dto';

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

/** The fields of a DTO in declaration order, as class-validator knows them (every field has a rule). */
const fieldsOf = (dto: new () => object): string[] => [
  ...new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).map((m) => m.propertyName)),
];

let fieldList: string | undefined;
/** "type, payload, ... and backoff (and idempotency_key in a batch)", from the DTOs. */
function taskFieldList(): string {
  if (fieldList === undefined) {
    const task = fieldsOf(CreateTaskDto);
    const batchOnly = fieldsOf(CreateBatchTaskDto).filter((f) => !task.includes(f));
    fieldList = `${task.slice(0, -1).join(', ')} and ${task[task.length - 1]} (and ${batchOnly.join(', ')} in a batch)`;
  }
  return fieldList;
}

/**
 * What makes `value` no task object, checked before field validation: not an object, too many
 * properties (validating tens of thousands is slow), or a key JSON.parse keeps as an own property
 * ("__proto__") that class-transformer would silently drop. `subject`: "body" for POST /tasks; an element
 * of a batch has none (its index comes first).
 */
export function taskObjectProblem(value: unknown, subject?: 'body'): string | undefined {
  const prefix = subject ? `${subject} ` : '';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${prefix}must be a JSON object`;
  const count = Object.keys(value).length;
  if (count > TASK_MAX_PROPERTIES) return `${prefix}has ${count} properties; a task has only ${taskFieldList()}`;
  const forbidden = FORBIDDEN_KEYS.find((key) => Object.prototype.hasOwnProperty.call(value, key));
  return forbidden === undefined ? undefined : `property ${forbidden} should not exist`;
}

/**
 * The body must be declared as JSON (anything else would reach validation as an empty object) and not
 * be empty. A Content-Type is called wrong only when one is given and it is not JSON, or when none is
 * given for a body that is there.
 */
function assertJsonBody(req: Request, wanted: string): void {
  const type = req.headers['content-type'];
  const isJson = type !== undefined && type.split(';')[0].trim().toLowerCase() === 'application/json';
  const wrongType = () => new BadRequestException(`Content-Type must be application/json (got ${type ? `"${type}"` : 'none'})`);
  if (type !== undefined && !isJson) throw wrongType();
  if (isEmptyBody(req)) throw new BadRequestException(`request body is empty: send ${wanted}`);
  if (!isJson) throw wrongType();
}

/** Checks the outline of a batch: an array of 1..BATCH_MAX_TASKS values (TaskBatchPipe checks each). */
export function assertTaskBatch(body: unknown): asserts body is unknown[] {
  if (!Array.isArray(body)) throw new BadRequestException('body must be a JSON array of tasks');
  if (body.length === 0 || body.length > BATCH_MAX_TASKS) {
    throw new BadRequestException(`a batch holds 1 to ${BATCH_MAX_TASKS} tasks (got ${body.length})`);
  }
}

/**
 * POST /tasks: the body must be declared as JSON, not be empty, and be one JSON object. Field
 * validation follows in the DTO pipe.
 *
 * Each middleware is bound to its own route (TasksModule), so Express' matching decides which check
 * runs: it is case-insensitive and ignores a trailing slash (`/TASKS/Batch/` is the batch route), which
 * a test on `req.path` would get wrong.
 */
@Injectable()
export class RequireJsonMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    assertJsonBody(req, 'a JSON object');
    const problem = taskObjectProblem(req.body, 'body');
    if (problem) throw new BadRequestException(problem);
    next();
  }
}

/** POST /tasks/batch: JSON, and an array of 1..BATCH_MAX_TASKS values; TaskBatchPipe checks each. */
@Injectable()
export class RequireJsonBatchMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    assertJsonBody(req, 'a JSON array of tasks');
    assertTaskBatch(req.body);
    next();
  }
}
