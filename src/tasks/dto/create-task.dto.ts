import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsIn, IsInt, IsNotEmpty, IsObject, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { MAX_RETRY_LIMIT, SCHEDULE_MAX_AHEAD_MS, TASK_TIMEOUT_MAX_MS, TYPE_MAX_LENGTH } from '../../queue/task-limits';
import { DEFAULT_QUEUE, QUEUE_NAME_MESSAGE, QUEUE_NAME_PATTERN } from '../../queue/task-id';
import { TASK_PRIORITIES, TaskPriority } from '../../queue/task-options';
import type { JsonValue } from '../../queue/json-value';
import { OpaqueJson, PlainlyValidWhen } from '../../http/validation.pipe';
import { BackoffDto } from './backoff.dto';
import { isPlainlyValidTaskBody } from './create-task.prevalidate';
import { runAtProblem } from './run-at';

/** OpenAPI schema of any JSON value (a payload or a result). */
export const JSON_VALUE_SCHEMA: ApiPropertyOptions = {
  oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'object' }, { type: 'array', items: {} }],
  nullable: true,
};

/**
 * Body of POST /tasks. `payload` is any JSON value, checked by the task type (TasksService): the demo
 * types take a string (absent = "", as in the original service; null is a wrong type), other types any
 * value (absent = null). Absent `max_retry` is the type's maxRetry, else DEFAULT_MAX_RETRY. Every other field is optional
 * too (issue 8: scheduling, priority, timeout, backoff). Unknown fields are rejected by the global
 * ValidationPipe (forbidNonWhitelisted). create-task.prevalidate.ts must accept no more than this: a body
 * it accepts skips class-transformer and class-validator (PlainlyValidWhen).
 */
@PlainlyValidWhen(isPlainlyValidTaskBody)
export class CreateTaskDto {
  // class-validator checks decorators bottom-up and stops at the first error: the type check goes last.
  @ApiProperty({ minLength: 1, maxLength: TYPE_MAX_LENGTH, description: 'a task type with a registered handler', example: 'echo' })
  @MaxLength(TYPE_MAX_LENGTH, { message: `type must be at most ${TYPE_MAX_LENGTH} characters` })
  @IsNotEmpty({ message: 'type must not be empty' })
  @IsString({ message: 'type must be a string' })
  type!: string;

  @ApiPropertyOptional({
    description: 'any JSON value, handed to the handler as it is; the five demo types take a string (absent: "" for them, null for other types)',
    ...JSON_VALUE_SCHEMA,
  })
  @Allow()
  @OpaqueJson()
  payload?: JsonValue;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_RETRY_LIMIT, description: 'retries after the first attempt (default DEFAULT_MAX_RETRY)' })
  @ValidateIf((o: CreateTaskDto) => o.max_retry !== undefined)
  @Max(MAX_RETRY_LIMIT, { message: `max_retry must be between 0 and ${MAX_RETRY_LIMIT}` })
  @Min(0, { message: `max_retry must be between 0 and ${MAX_RETRY_LIMIT}` })
  @IsInt({ message: 'max_retry must be an integer' })
  max_retry?: number;

  /** Runs this many ms after it is created (0 = at once). */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: SCHEDULE_MAX_AHEAD_MS, description: 'runs this many ms after it is created; not with run_at' })
  @ValidateIf((o: CreateTaskDto) => o.delay_ms !== undefined)
  @Max(SCHEDULE_MAX_AHEAD_MS, { message: `delay_ms must be between 0 and ${SCHEDULE_MAX_AHEAD_MS} (365 days)` })
  @Min(0, { message: `delay_ms must be between 0 and ${SCHEDULE_MAX_AHEAD_MS} (365 days)` })
  @IsInt({ message: 'delay_ms must be an integer' })
  delay_ms?: number;

  /** Runs at this time (ISO 8601 with an offset, at most 365 days ahead; a past time means at once). */
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'runs at this time: ISO 8601 with an offset, at most 365 days ahead, a past time means at once; not with delay_ms',
  })
  @ValidateIf((o: CreateTaskDto) => o.run_at !== undefined)
  @ValidateBy({
    name: 'isRunAt',
    validator: {
      validate: (value: unknown, args) => typeof value === 'string' && runAtProblem(value, (args?.object as CreateTaskDto).delay_ms) === undefined,
      defaultMessage: (args) => runAtProblem(args?.value as string, (args?.object as CreateTaskDto).delay_ms) ?? 'run_at is not valid',
    },
  })
  @IsString({ message: 'run_at must be a string' })
  run_at?: string;

  /** The queue the task goes to (default `default`); workers choose queues with WORKER_QUEUES. */
  @ApiPropertyOptional({ pattern: QUEUE_NAME_PATTERN.source, default: DEFAULT_QUEUE, description: 'the queue the task goes to' })
  @ValidateIf((o: CreateTaskDto) => o.queue !== undefined)
  @Matches(QUEUE_NAME_PATTERN, { message: `queue ${QUEUE_NAME_MESSAGE}` })
  @IsString({ message: 'queue must be a string' })
  queue?: string;

  @ApiPropertyOptional({ enum: TASK_PRIORITIES, default: 'normal' })
  @ValidateIf((o: CreateTaskDto) => o.priority !== undefined)
  @IsIn(TASK_PRIORITIES, { message: `priority must be one of: ${TASK_PRIORITIES.join(', ')}` })
  priority?: TaskPriority;

  /** Longest one attempt may run, instead of TASK_TIMEOUT_MS. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: TASK_TIMEOUT_MAX_MS, description: 'longest one attempt may run, instead of TASK_TIMEOUT_MS' })
  @ValidateIf((o: CreateTaskDto) => o.timeout_ms !== undefined)
  @Max(TASK_TIMEOUT_MAX_MS, { message: `timeout_ms must be between 1 and ${TASK_TIMEOUT_MAX_MS} (24 h)` })
  @Min(1, { message: `timeout_ms must be between 1 and ${TASK_TIMEOUT_MAX_MS} (24 h)` })
  @IsInt({ message: 'timeout_ms must be an integer' })
  timeout_ms?: number;

  @ApiPropertyOptional({ type: BackoffDto, description: 'retry delays of this task (else the service defaults)' })
  @ValidateIf((o: CreateTaskDto) => o.backoff !== undefined)
  @ValidateNested()
  @IsObject({ message: 'backoff must be an object' })
  @Type(() => BackoffDto)
  backoff?: BackoffDto;
}
