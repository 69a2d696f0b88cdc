import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { NewSchedule, ScheduleRecord, TaskTemplate } from '../queue/schedule.model';
import { ScheduleRepository } from '../queue/schedule.repository';
import { InvalidTaskError, PayloadTooLargeError } from '../tasks/task-errors';
import { TasksService } from '../tasks/tasks.service';
import { CronSchedule, DEFAULT_TIMEZONE } from './cron-schedule';
import { CreateScheduleDto } from './dto/create-schedule.dto';
import { ScheduleLimitError, ScheduleNotFoundError } from './schedule-errors';

/** Most schedules that may exist at once (GET /schedules answers them all). */
export const SCHEDULES_MAX = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The schedules API. Times come from Redis' clock, the one the scheduler fires by. A schedule is
 * not edited: delete it and create another (README "Schedules").
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly tasks: TasksService,
  ) {}

  /** The task is checked as POST /tasks checks it (its type's handler, payload size); the first tick is the first after now. */
  async create(dto: CreateScheduleDto): Promise<ScheduleRecord> {
    const task = this.template(dto);
    const id = randomUUID();
    const timezone = dto.timezone ?? DEFAULT_TIMEZONE;
    const cron = dto.cron.trim();
    const nextRunAt = new CronSchedule(cron, timezone, id).nextAfter(await this.schedules.now());
    if (nextRunAt === undefined) throw new InvalidTaskError('cron has no tick after now');
    const schedule: NewSchedule = { id, name: dto.name ?? '', cron, timezone, task, nextRunAt };
    const createdAt = await this.schedules.create(schedule, SCHEDULES_MAX);
    if (createdAt === undefined) throw new ScheduleLimitError(SCHEDULES_MAX);
    return { ...schedule, paused: false, createdAt };
  }

  list(): Promise<ScheduleRecord[]> {
    return this.schedules.list();
  }

  async get(id: string): Promise<ScheduleRecord> {
    return found(id, UUID.test(id) ? await this.schedules.get(id) : undefined);
  }

  async delete(id: string): Promise<void> {
    if (!UUID.test(id) || !(await this.schedules.delete(id))) throw new ScheduleNotFoundError(id);
  }

  /** Creates no task until resumed; pausing a paused schedule changes nothing. */
  async pause(id: string): Promise<ScheduleRecord> {
    return found(id, UUID.test(id) ? await this.schedules.pause(id) : undefined);
  }

  /** The next tick is the first after now: ticks that passed while paused are not caught up. */
  async resume(id: string): Promise<ScheduleRecord> {
    const schedule = await this.get(id);
    if (!schedule.paused) return schedule;
    const next = new CronSchedule(schedule.cron, schedule.timezone, id).nextAfter(await this.schedules.now());
    // No tick left (not expected of a cron expression that had one): it stays paused.
    if (next === undefined) return schedule;
    return found(id, await this.schedules.resume(id, next));
  }

  /** The task every tick creates, checked by the rules of POST /tasks; problems name the field under `task.`. */
  private template(dto: CreateScheduleDto): TaskTemplate {
    try {
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { id, ...template } = this.tasks.prepare(dto.task);
      return template;
    } catch (err) {
      if (err instanceof PayloadTooLargeError) throw new PayloadTooLargeError(`task.${err.message}`);
      if (!(err instanceof InvalidTaskError)) throw err;
      throw new InvalidTaskError(err.message.startsWith('payload') ? `task.${err.message}` : `task.type: ${err.message}`);
    }
  }
}

function found(id: string, schedule: ScheduleRecord | undefined): ScheduleRecord {
  if (!schedule) throw new ScheduleNotFoundError(id);
  return schedule;
}
