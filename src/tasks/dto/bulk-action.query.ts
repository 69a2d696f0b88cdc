import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { QUEUE_NAME_MESSAGE, QUEUE_NAME_PATTERN } from '../../queue/task-id';
import { TYPE_MAX_LENGTH } from '../../queue/task-limits';

const TYPE_QUERY_PATTERN = /^[A-Za-z0-9_.:-]+$/;
/** Largest older_than_s: ten years. */
export const OLDER_THAN_MAX_S = 10 * 365 * 86400;
export const DELETABLE_STATUSES = ['completed', 'failed'] as const;

const digitsToNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;

/** Query of POST /tasks/retry-failed. */
export class RetryFailedQuery {
  @ApiPropertyOptional({ pattern: QUEUE_NAME_PATTERN.source, description: 'failed tasks of one queue (absent: every queue)' })
  @Matches(QUEUE_NAME_PATTERN, { message: `queue ${QUEUE_NAME_MESSAGE}` })
  @IsString({ message: 'queue must be a single string' })
  @IsOptional()
  queue?: string;

  @ApiPropertyOptional({ pattern: TYPE_QUERY_PATTERN.source, maxLength: TYPE_MAX_LENGTH, description: 'failed tasks of one type (absent: every type)' })
  @Matches(TYPE_QUERY_PATTERN, { message: 'type may only contain letters, digits and _ . : -' })
  @MaxLength(TYPE_MAX_LENGTH, { message: `type must be at most ${TYPE_MAX_LENGTH} characters` })
  @IsString({ message: 'type must be a single string' })
  @IsOptional()
  type?: string;
}

/** Query of DELETE /tasks. */
export class DeleteTasksQuery {
  @ApiProperty({ enum: DELETABLE_STATUSES, description: 'which finished tasks to delete' })
  @IsIn(DELETABLE_STATUSES, { message: `status is required and must be one of: ${DELETABLE_STATUSES.join(', ')}` })
  status: (typeof DELETABLE_STATUSES)[number];

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: OLDER_THAN_MAX_S, description: 'only tasks that finished at least this many seconds ago' })
  @Max(OLDER_THAN_MAX_S, { message: `older_than_s must be an integer between 0 and ${OLDER_THAN_MAX_S}` })
  @Min(0, { message: `older_than_s must be an integer between 0 and ${OLDER_THAN_MAX_S}` })
  @IsInt({ message: `older_than_s must be an integer between 0 and ${OLDER_THAN_MAX_S}` })
  @Transform(digitsToNumber)
  @IsOptional()
  older_than_s?: number;

  @ApiPropertyOptional({ pattern: QUEUE_NAME_PATTERN.source, description: 'tasks of one queue (absent: every queue)' })
  @Matches(QUEUE_NAME_PATTERN, { message: `queue ${QUEUE_NAME_MESSAGE}` })
  @IsString({ message: 'queue must be a single string' })
  @IsOptional()
  queue?: string;
}

export class RetriedResponse {
  @ApiProperty({ example: 12, description: 'failed tasks sent back to pending' })
  retried: number;
}

export class DeletedResponse {
  @ApiProperty({ example: 340, description: 'tasks deleted' })
  deleted: number;
}
