import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { decodeJsonValue, JsonValue } from '../queue/json-value';
import { ScheduleRecord } from '../queue/schedule.model';
import { DEFAULT_QUEUE } from '../queue/task-id';
import { DEFAULT_PRIORITY, TASK_PRIORITIES, TaskPriority } from '../queue/task-options';
import { JSON_VALUE_SCHEMA } from '../tasks/dto/create-task.dto';
import { BackoffResponse } from '../tasks/task-response';

/** The task every tick of a schedule creates, its defaults resolved when the schedule was created. */
export class ScheduleTaskResponse {
  @ApiProperty()
  type: string;
  @ApiProperty({ ...JSON_VALUE_SCHEMA, description: 'as submitted (when none was given: "" for the five demo types, null for other types)' })
  payload: JsonValue;
  @ApiProperty({ default: DEFAULT_QUEUE })
  queue: string;
  @ApiProperty({ enum: TASK_PRIORITIES })
  priority: TaskPriority;
  @ApiProperty({ minimum: 0, description: 'as given, or DEFAULT_MAX_RETRY when the schedule was created' })
  max_retry: number;
  @ApiPropertyOptional({ minimum: 1, description: 'present when the task has its own (else TASK_TIMEOUT_MS applies)' })
  timeout_ms?: number;
  @ApiPropertyOptional({ type: BackoffResponse, description: 'present when the task has its own policy' })
  backoff?: BackoffResponse;
}

/** A schedule as the API returns it: snake_case, ISO-8601 UTC times. */
export class ScheduleResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ description: '"" when none was given' })
  name: string;
  @ApiProperty({ example: '*/5 * * * *' })
  cron: string;
  @ApiProperty({ example: 'Europe/Berlin' })
  timezone: string;
  @ApiProperty({ type: ScheduleTaskResponse })
  task: ScheduleTaskResponse;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'the next tick; null while paused' })
  next_run_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'the tick of the last task created (its scheduled_for); null before the first' })
  last_run_at: string | null;
  @ApiProperty()
  paused: boolean;
  @ApiProperty({ format: 'date-time' })
  created_at: string;
}

export class ScheduleListResponse {
  @ApiProperty({ type: [ScheduleResponse], description: 'every schedule, oldest first' })
  schedules: ScheduleResponse[];
}

export function toScheduleResponse(s: ScheduleRecord): ScheduleResponse {
  const t = s.task;
  return {
    id: s.id,
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    task: {
      type: t.type,
      payload: decodeJsonValue(t.payload),
      queue: t.queue ?? DEFAULT_QUEUE,
      priority: t.priority ?? DEFAULT_PRIORITY,
      max_retry: t.maxRetry,
      timeout_ms: t.timeoutMs,
      backoff: t.backoff && { type: t.backoff.type, delay_ms: t.backoff.delayMs, max_delay_ms: t.backoff.maxDelayMs, jitter: t.backoff.jitter },
    },
    next_run_at: s.paused ? null : new Date(s.nextRunAt).toISOString(),
    last_run_at: s.lastRunAt === undefined ? null : new Date(s.lastRunAt).toISOString(),
    paused: s.paused,
    created_at: new Date(s.createdAt).toISOString(),
  };
}
