import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, Max, Min, ValidateBy, ValidateIf } from 'class-validator';
import { BACKOFF_DELAY_MAX_MS, BACKOFF_MAX_DELAY_MAX_MS } from '../../queue/task-limits';
import { BACKOFF_TYPES, BackoffType } from '../../queue/task-options';

export const BACKOFF_MAX_BELOW_DELAY_MESSAGE = 'max_delay_ms must not be smaller than backoff.delay_ms';

/**
 * `backoff` of a task body: every field optional; left out, each takes today's default (exponential,
 * RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS, no jitter), resolved when the task is submitted. Field
 * messages are prefixed with `backoff.` by the ValidationPipe.
 */
export class BackoffDto {
  @ApiPropertyOptional({ enum: BACKOFF_TYPES, default: 'exponential' })
  @ValidateIf((o: BackoffDto) => o.type !== undefined)
  @IsIn(BACKOFF_TYPES, { message: `type must be one of: ${BACKOFF_TYPES.join(', ')}` })
  type?: BackoffType;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: BACKOFF_DELAY_MAX_MS, description: 'first delay (default RETRY_BASE_DELAY_MS)' })
  @ValidateIf((o: BackoffDto) => o.delay_ms !== undefined)
  @Max(BACKOFF_DELAY_MAX_MS, { message: `delay_ms must be between 1 and ${BACKOFF_DELAY_MAX_MS}` })
  @Min(1, { message: `delay_ms must be between 1 and ${BACKOFF_DELAY_MAX_MS}` })
  @IsInt({ message: 'delay_ms must be an integer' })
  delay_ms?: number;

  // Checked bottom-up, stopping at the first error: the type check goes last.
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: BACKOFF_MAX_DELAY_MAX_MS,
    description: 'cap of the delay, not below delay_ms (default RETRY_MAX_DELAY_MS)',
  })
  @ValidateIf((o: BackoffDto) => o.max_delay_ms !== undefined)
  @ValidateBy({
    name: 'notBelowDelay',
    validator: {
      validate: (max: number, args) => !Number.isInteger((args?.object as BackoffDto).delay_ms) || max >= ((args?.object as BackoffDto).delay_ms as number),
      defaultMessage: () => BACKOFF_MAX_BELOW_DELAY_MESSAGE,
    },
  })
  @Max(BACKOFF_MAX_DELAY_MAX_MS, { message: `max_delay_ms must be between 1 and ${BACKOFF_MAX_DELAY_MAX_MS}` })
  @Min(1, { message: `max_delay_ms must be between 1 and ${BACKOFF_MAX_DELAY_MAX_MS}` })
  @IsInt({ message: 'max_delay_ms must be an integer' })
  max_delay_ms?: number;

  @ApiPropertyOptional({ default: false, description: 'each delay drawn uniformly between half and all of it' })
  @ValidateIf((o: BackoffDto) => o.jitter !== undefined)
  @IsBoolean({ message: 'jitter must be a boolean' })
  jitter?: boolean;
}
