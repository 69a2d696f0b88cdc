import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { QUEUE_NAME_MESSAGE, QUEUE_NAME_PATTERN } from '../../queue/task-id';
import { TASK_PRIORITIES, TaskPriority } from '../../queue/task-options';
import { TASK_STATUSES, TaskStatus } from '../../queue/task.model';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, TYPE_MAX_LENGTH } from '../../queue/task-limits';

const TYPE_QUERY_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** Only plain decimal digits become a number; anything else stays a string and fails @IsInt. */
const digitsToNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : value;

/** Query of GET /tasks. A repeated parameter arrives as an array and fails its string check. */
export class ListTasksQuery {
  @ApiPropertyOptional({ enum: TASK_STATUSES })
  @IsOptional()
  @IsIn(TASK_STATUSES, { message: `status must be one of: ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;

  /** Tasks of one queue; absent: every queue, merged newest first (one script call per queue). */
  @ApiPropertyOptional({ pattern: QUEUE_NAME_PATTERN.source, description: 'tasks of one queue (absent: every queue)' })
  @Matches(QUEUE_NAME_PATTERN, { message: `queue ${QUEUE_NAME_MESSAGE}` })
  @IsString({ message: 'queue must be a single string' })
  @IsOptional()
  queue?: string;

  /** Tasks of one priority level (see README: a filtered page may be short). */
  @ApiPropertyOptional({ enum: TASK_PRIORITIES, description: 'a filtered page may be short; follow Link' })
  @IsOptional()
  @IsIn(TASK_PRIORITIES, { message: `priority must be one of: ${TASK_PRIORITIES.join(', ')}` })
  priority?: TaskPriority;

  // Checked bottom-up, stopping at the first error: the type check goes last.
  @ApiPropertyOptional({ pattern: TYPE_QUERY_PATTERN.source, maxLength: TYPE_MAX_LENGTH })
  @Matches(TYPE_QUERY_PATTERN, { message: 'type may only contain letters, digits and _ . : -' })
  @MaxLength(TYPE_MAX_LENGTH, { message: `type must be at most ${TYPE_MAX_LENGTH} characters` })
  @IsString({ message: 'type must be a single string' })
  @IsOptional()
  type?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT })
  @Max(LIST_LIMIT_MAX, { message: `limit must be an integer between 1 and ${LIST_LIMIT_MAX}` })
  @Min(1, { message: `limit must be an integer between 1 and ${LIST_LIMIT_MAX}` })
  @IsInt({ message: `limit must be an integer between 1 and ${LIST_LIMIT_MAX}` })
  @Transform(digitsToNumber)
  @IsOptional()
  limit?: number;

  @ApiPropertyOptional({ maxLength: 200, description: 'opaque; taken from the Link header of the previous page' })
  @MaxLength(200, { message: 'cursor is not valid' })
  @IsString({ message: 'cursor must be a single string' })
  @IsOptional()
  cursor?: string;
}
