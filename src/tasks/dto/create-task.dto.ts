import { IsInt, IsNotEmpty, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { MAX_RETRY_LIMIT, TYPE_MAX_LENGTH } from '../../queue/task-limits';

/**
 * Body of POST /tasks. Absent `payload` is "" and absent `max_retry` is DEFAULT_MAX_RETRY, as in the
 * original service; an explicit null is a wrong type, not an absence. Unknown fields are rejected by
 * the global ValidationPipe (forbidNonWhitelisted).
 */
export class CreateTaskDto {
  // class-validator checks decorators bottom-up and stops at the first error: the type check goes last.
  @MaxLength(TYPE_MAX_LENGTH, { message: `type must be at most ${TYPE_MAX_LENGTH} characters` })
  @IsNotEmpty({ message: 'type must not be empty' })
  @IsString({ message: 'type must be a string' })
  type!: string;

  @ValidateIf((o: CreateTaskDto) => o.payload !== undefined)
  @IsString({ message: 'payload must be a string' })
  payload?: string;

  @ValidateIf((o: CreateTaskDto) => o.max_retry !== undefined)
  @Max(MAX_RETRY_LIMIT, { message: `max_retry must be between 0 and ${MAX_RETRY_LIMIT}` })
  @Min(0, { message: `max_retry must be between 0 and ${MAX_RETRY_LIMIT}` })
  @IsInt({ message: 'max_retry must be an integer' })
  max_retry?: number;
}
