import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { NewTask, TaskPage, TaskRecord } from '../queue/task.model';
import { HandlerRegistry } from '../task-types/handler-registry';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { decodeCursor } from './list-cursor';
import { InvalidCursorError, InvalidTaskError, PayloadTooLargeError } from './task-errors';
import { LIST_LIMIT_DEFAULT } from '../queue/task-limits';

@Injectable()
export class TasksService {
  constructor(
    private readonly queue: QueueRepository,
    private readonly handlers: HandlerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Validates against the handler of the type, then stores; the task is durable when this resolves. */
  async create(dto: CreateTaskDto): Promise<TaskRecord> {
    const [task] = await this.createMany([dto]);
    return task;
  }

  /**
   * All or none: every task is checked first (payload size, then its type's validation), then all are
   * stored in one script call. Payloads over MAX_PAYLOAD_BYTES are reported first (413), the rest 400.
   */
  async createMany(dtos: CreateTaskDto[]): Promise<TaskRecord[]> {
    const tooLarge: string[] = [];
    const problems: string[] = [];
    const element = (i: number, problem: string) => (dtos.length === 1 ? problem : `[${i}] ${problem}`);
    const tasks: NewTask[] = dtos.map((dto, i) => {
      const payload = dto.payload ?? '';
      const size = this.payloadSizeProblem(payload);
      const problem = size ? undefined : this.checkAgainstHandler(dto.type, payload);
      if (size) tooLarge.push(element(i, size));
      else if (problem) problems.push(element(i, problem));
      return { id: randomUUID(), type: dto.type, payload, maxRetry: dto.max_retry ?? this.config.retry.defaultMaxRetry };
    });
    if (tooLarge.length > 0) throw new PayloadTooLargeError(summary(dtos.length, tooLarge));
    if (problems.length > 0) throw new InvalidTaskError(summary(dtos.length, problems));
    // Stamped by Redis' clock: the answer carries the creation time that is stored.
    const createdAt = await this.queue.enqueue(tasks);
    return tasks.map((t) => ({
      id: t.id,
      type: t.type,
      payload: t.payload,
      maxRetry: t.maxRetry,
      status: 'pending',
      retries: 0,
      attempts: 0,
      stalls: 0,
      createdAt,
      updatedAt: createdAt,
    }));
  }

  /** Measured in UTF-8 bytes, as stored. A UTF-16 code unit is at most 3 bytes: short payloads skip the count. */
  private payloadSizeProblem(payload: string): string | undefined {
    const max = this.config.limits.maxPayloadBytes;
    if (payload.length * 3 <= max) return undefined;
    const bytes = Buffer.byteLength(payload, 'utf8');
    return bytes > max ? `payload is ${bytes} bytes; the limit is ${max} bytes (MAX_PAYLOAD_BYTES)` : undefined;
  }

  private checkAgainstHandler(type: string, payload: string): string | undefined {
    const handler = this.handlers.get(type);
    if (!handler) return `unknown task type "${type}"; known types: ${this.handlers.types().join(', ')}`;
    try {
      handler.validatePayload?.(payload);
    } catch (err) {
      // Whatever a validator throws (InvalidPayloadError, a TypeError of its own, a string) is about
      // this payload: a 400 naming it, never a 500.
      return `payload: ${err instanceof Error ? err.message : String(err)}`;
    }
    return undefined;
  }

  async get(id: string): Promise<TaskRecord> {
    const task = await this.queue.get(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  list(query: ListTasksQuery): Promise<TaskPage> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !cursor) throw new InvalidCursorError();
    return this.queue.list({ status: query.status, type: query.type }, query.limit ?? LIST_LIMIT_DEFAULT, cursor);
  }

  delete(id: string): Promise<void> {
    return this.queue.delete(id);
  }
}

/** One problem as it is; several as one line naming each element, at most 20 of them. */
function summary(count: number, problems: string[]): string {
  return count === 1 ? problems[0] : `no task was created: ${problems.slice(0, 20).join('; ')}`;
}
