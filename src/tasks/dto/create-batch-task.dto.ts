import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches, ValidateIf } from 'class-validator';
import { IDEMPOTENCY_KEY_PATTERN } from '../../queue/task-limits';
import { CreateTaskDto } from './create-task.dto';

export const IDEMPOTENCY_KEY_MESSAGE = 'must be 1 to 255 printable ASCII characters';

/**
 * One element of POST /tasks/batch: a task body, plus the element's own idempotency key (what the
 * Idempotency-Key header is for POST /tasks). Not part of the request hash.
 */
export class CreateBatchTaskDto extends CreateTaskDto {
  @ApiPropertyOptional({ pattern: IDEMPOTENCY_KEY_PATTERN.source, description: 'what the Idempotency-Key header is for POST /tasks' })
  @ValidateIf((o: CreateBatchTaskDto) => o.idempotency_key !== undefined)
  @Matches(IDEMPOTENCY_KEY_PATTERN, { message: `idempotency_key ${IDEMPOTENCY_KEY_MESSAGE}` })
  @IsString({ message: 'idempotency_key must be a string' })
  idempotency_key?: string;
}
