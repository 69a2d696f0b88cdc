import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { TASK_PRIORITIES, TaskPriority } from '../../queue/task-options';
import { TASK_STATUSES, TaskStatus } from '../../queue/task.model';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../../queue/task-limits';
import { QueueQueryField, TypeQueryField } from './query-fields';

/** Only plain decimal digits become a number; anything else stays a string and fails @IsInt. */
const digitsToNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : value;

/** Query of GET /tasks. A repeated parameter arrives as an array and fails its string check. */
export class ListTasksQuery {
  @ApiPropertyOptional({ enum: TASK_STATUSES })
  @IsOptional()
  @IsIn(TASK_STATUSES, { message: `status must be one of: ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;

  /** Tasks of one queue; absent: every queue, merged in the listing's order (open tasks newest created first, then finished ones latest finished first; one script call per queue). */
  @QueueQueryField('tasks of one queue (absent: every queue)')
  queue?: string;

  /** Tasks of one priority level (see README: a filtered page may be short). */
  @ApiPropertyOptional({ enum: TASK_PRIORITIES, description: 'a filtered page may be short; follow Link' })
  @IsOptional()
  @IsIn(TASK_PRIORITIES, { message: `priority must be one of: ${TASK_PRIORITIES.join(', ')}` })
  priority?: TaskPriority;

  @TypeQueryField()
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
