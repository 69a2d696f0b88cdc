import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { QUEUE_NAME_MESSAGE, QUEUE_NAME_PATTERN } from '../../queue/task-id';
import { TYPE_MAX_LENGTH } from '../../queue/task-limits';

const TYPE_QUERY_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/*
 * Query fields shared by the task routes. Checked in the order registered, stopping at the first error
 * (the validation pipe's stopAtFirstError): a repeated parameter arrives as an array and fails the
 * string check first. applyDecorators registers in the order given, as a stack written bottom-up would.
 */

/** An optional `queue` query parameter: a queue name. */
export const QueueQueryField = (description: string): PropertyDecorator =>
  applyDecorators(
    IsOptional(),
    IsString({ message: 'queue must be a single string' }),
    Matches(QUEUE_NAME_PATTERN, { message: `queue ${QUEUE_NAME_MESSAGE}` }),
    ApiPropertyOptional({ pattern: QUEUE_NAME_PATTERN.source, description }),
  );

/** An optional `type` query parameter: a task type name. */
export const TypeQueryField = (description?: string): PropertyDecorator =>
  applyDecorators(
    IsOptional(),
    IsString({ message: 'type must be a single string' }),
    MaxLength(TYPE_MAX_LENGTH, { message: `type must be at most ${TYPE_MAX_LENGTH} characters` }),
    Matches(TYPE_QUERY_PATTERN, { message: 'type may only contain letters, digits and _ . : -' }),
    ApiPropertyOptional({ pattern: TYPE_QUERY_PATTERN.source, maxLength: TYPE_MAX_LENGTH, ...(description ? { description } : {}) }),
  );
