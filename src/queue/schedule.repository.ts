import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { ScheduleKeys } from './queue-keys';
import { runCommand } from './redis-command';
import { RedisConnections } from './redis-connections';
import { NewSchedule, parseScheduleHash, ScheduleRecord } from './schedule.model';

/** The due schedules and Redis' now, for one turn of the scheduler. */
export interface DueSchedules {
  /** Redis' clock (ms) when they were read. */
  now: number;
  /** Earliest next run (ms) still ahead of `now` among the schedules not returned; undefined when none. */
  nextAt?: number;
  due: ScheduleRecord[];
}

/** One schedule to move on (schedule-advance.lua): applied only while its next run is still `expected`. */
export interface ScheduleAdvance {
  id: string;
  expected: number;
  next: number;
  fired: number;
}

/**
 * Typed access to the periodic schedules in Redis (keys of ScheduleKeys, one slot). The tasks they
 * create are submitted through QueueRepository.submit. Failures of Redis surface as
 * QueueUnavailableError (503) or QueueServerError, as for the queue.
 */
@Injectable()
export class ScheduleRepository {
  readonly keys: ScheduleKeys;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.keys = new ScheduleKeys(config.queue.prefix);
  }

  private get client() {
    return this.redis.commands;
  }

  /** Redis' clock (ms): the one the scheduler fires by. */
  async now(): Promise<number> {
    const [s, us] = await this.run(() => this.client.time());
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /** Stores the schedule on the due index. Resolves to its created_at, or undefined when `max` schedules exist already. */
  async create(s: NewSchedule, max: number): Promise<number | undefined> {
    const k = this.keys;
    const fields = ['name', s.name, 'cron', s.cron, 'tz', s.timezone, 'task', JSON.stringify(s.task)];
    const createdAt = (await this.run(() =>
      this.client.scheduleCreate(k.schedule(s.id), k.due, k.all, s.id, max, s.nextRunAt, ...fields),
    )) as number;
    return createdAt > 0 ? createdAt : undefined;
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const hash = await this.run(() => this.client.hgetall(this.keys.schedule(id)));
    return parseScheduleHash(id, hash);
  }

  /** Every schedule, oldest first. */
  async list(): Promise<ScheduleRecord[]> {
    const reply = (await this.run(() => this.client.schedulesList(this.keys.all, this.keys.base))) as unknown[];
    return parseSchedules(reply, 0);
  }

  /** Resolves false when there was no such schedule. */
  async delete(id: string): Promise<boolean> {
    const k = this.keys;
    return (await this.run(() => this.client.scheduleDelete(k.schedule(id), k.due, k.all, id))) === 1;
  }

  /** Takes it off the due index; undefined when there is no such schedule. */
  pause(id: string): Promise<ScheduleRecord | undefined> {
    return this.setPaused(id, '1', '');
  }

  /** Back on the due index at `nextRunAt` if it was paused (else unchanged); undefined when there is no such schedule. */
  resume(id: string, nextRunAt: number): Promise<ScheduleRecord | undefined> {
    return this.setPaused(id, '0', nextRunAt);
  }

  /** Up to `limit` schedules whose next run has come by Redis' clock, earliest first. */
  async due(limit: number): Promise<DueSchedules> {
    const reply = (await this.run(() => this.client.schedulesDue(this.keys.due, this.keys.base, limit))) as unknown[];
    const nextAt = Number(reply[1]);
    return { now: Number(reply[0]), nextAt: nextAt >= 0 ? nextAt : undefined, due: parseSchedules(reply, 2) };
  }

  /** Compare-and-set of each schedule's next run; per advance, whether it applied. */
  async advance(advances: ScheduleAdvance[]): Promise<boolean[]> {
    if (advances.length === 0) return [];
    const args: (string | number)[] = [this.keys.due, this.keys.base];
    for (const a of advances) args.push(a.id, a.expected, a.next, a.fired);
    const reply = (await this.run(() => this.client.scheduleAdvance(...args))) as number[];
    return reply.map((applied) => applied === 1);
  }

  private async setPaused(id: string, paused: '0' | '1', nextRunAt: number | ''): Promise<ScheduleRecord | undefined> {
    const k = this.keys;
    const pairs = (await this.run(() => this.client.schedulePause(k.schedule(id), k.due, id, paused, nextRunAt))) as string[];
    return parseScheduleHash(id, pairsToObject(pairs));
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return runCommand(this.redis, command);
  }
}

/** `id, { field, value, ... }` pairs from `start` on. */
function parseSchedules(reply: unknown[], start: number): ScheduleRecord[] {
  const out: ScheduleRecord[] = [];
  for (let i = start; i < reply.length; i += 2) {
    const s = parseScheduleHash(reply[i] as string, pairsToObject(reply[i + 1] as string[]));
    if (s) out.push(s);
  }
  return out;
}

function pairsToObject(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
  return out;
}
