import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsString, MaxLength, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { CreateTaskDto } from '../../tasks/dto/create-task.dto';
import { CRON_MAX_LENGTH, cronProblem, DEFAULT_TIMEZONE, timezoneProblem } from '../cron-schedule';

export const SCHEDULE_NAME_MAX_LENGTH = 200;

/**
 * The task each tick creates: a POST /tasks body (validated by the same rules and, in the service, the
 * same handler check) without delay_ms and run_at, since the schedule decides when it runs.
 */
export class ScheduleTaskDto extends OmitType(CreateTaskDto, ['delay_ms', 'run_at'] as const) {}

/** Body of POST /schedules. Unknown fields are rejected (global ValidationPipe). */
export class CreateScheduleDto {
  @ApiPropertyOptional({ maxLength: SCHEDULE_NAME_MAX_LENGTH, description: 'a label for people; not unique' })
  @ValidateIf((o: CreateScheduleDto) => o.name !== undefined)
  @MaxLength(SCHEDULE_NAME_MAX_LENGTH, { message: `name must be at most ${SCHEDULE_NAME_MAX_LENGTH} characters` })
  @IsString({ message: 'name must be a string' })
  name?: string;

  @ApiProperty({
    maxLength: CRON_MAX_LENGTH,
    example: '*/5 * * * *',
    description: '5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, or a macro such as @daily',
  })
  @ValidateBy({
    name: 'isCron',
    validator: { validate: (value: unknown) => cronProblem(value) === undefined, defaultMessage: (args) => cronProblem(args?.value) ?? 'cron is not valid' },
  })
  cron!: string;

  @ApiPropertyOptional({ default: DEFAULT_TIMEZONE, example: 'Europe/Berlin', description: 'IANA time zone the cron expression is read in' })
  @ValidateIf((o: CreateScheduleDto) => o.timezone !== undefined)
  @ValidateBy({
    name: 'isTimezone',
    validator: { validate: (value: unknown) => timezoneProblem(value) === undefined, defaultMessage: (args) => timezoneProblem(args?.value) ?? 'timezone is not valid' },
  })
  timezone?: string;

  @ApiProperty({ type: ScheduleTaskDto, description: 'the task every tick creates, as POST /tasks takes it (without delay_ms and run_at)' })
  @ValidateNested()
  @IsObject({ message: 'task must be an object' })
  @Type(() => ScheduleTaskDto)
  task!: ScheduleTaskDto;
}
