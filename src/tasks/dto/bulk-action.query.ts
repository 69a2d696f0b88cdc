import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { QueueQueryField, TypeQueryField } from './query-fields';

/** Largest older_than_s: ten years. */
export const OLDER_THAN_MAX_S = 10 * 365 * 86400;
export const DELETABLE_STATUSES = ['completed', 'failed'] as const;

const digitsToNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;

/** Query of POST /tasks/retry-failed. */
export class RetryFailedQuery {
  @QueueQueryField('failed tasks of one queue (absent: every queue)')
  queue?: string;

  @TypeQueryField('failed tasks of one type (absent: every type)')
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

  @QueueQueryField('tasks of one queue (absent: every queue)')
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
