import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { NewTask, TaskPage, TaskRecord } from '../queue/task.model';
import { HandlerRegistry } from '../task-types/handler-registry';
import { InvalidPayloadError } from '../task-types/task-handler';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { decodeCursor } from './list-cursor';
import { InvalidCursorError, InvalidTaskError } from './task-errors';
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

  /** All or none: every task is checked against its handler first, then all are stored in one script call. */
  async createMany(dtos: CreateTaskDto[]): Promise<TaskRecord[]> {
    const problems: string[] = [];
    const tasks: NewTask[] = dtos.map((dto, i) => {
      const payload = dto.payload ?? '';
      const problem = this.checkAgainstHandler(dto.type, payload);
      if (problem) problems.push(dtos.length === 1 ? problem : `[${i}] ${problem}`);
      return { id: randomUUID(), type: dto.type, payload, maxRetry: dto.max_retry ?? this.config.retry.defaultMaxRetry };
    });
    if (problems.length > 0) {
      throw new InvalidTaskError(dtos.length === 1 ? problems[0] : `no task was created: ${problems.slice(0, 20).join('; ')}`);
    }
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

  private checkAgainstHandler(type: string, payload: string): string | undefined {
    const handler = this.handlers.get(type);
    if (!handler) return `unknown task type "${type}"; known types: ${this.handlers.types().join(', ')}`;
    try {
      handler.validatePayload?.(payload);
    } catch (err) {
      if (err instanceof InvalidPayloadError) return `payload: ${err.message}`;
      throw err;
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
