import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { TaskMetrics } from '../metrics/task-metrics';
import { TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository, SubmitOutcome } from '../queue/queue.repository';
import { DEFAULT_QUEUE, newTaskId, queueOfTaskId } from '../queue/task-id';
import { BackoffPolicy } from '../queue/task-options';
import { NewTask, TaskPage, TaskRecord } from '../queue/task.model';
import { encodeJsonValue } from '../queue/json-value';
import { HandlerRegistry, TaskTypeDefinition } from '../task-types/handler-registry';
import { TaskTypeBackoff } from '../task-types/task-handler';
import { absentPayload, checkPayload } from '../task-types/task-payload';
import { BackoffDto } from './dto/backoff.dto';
import { CreateBatchTaskDto } from './dto/create-batch-task.dto';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { parseRunAt } from './dto/run-at';
import { decodeCursor } from './list-cursor';
import { requestHash } from './request-hash';
import { IdempotencyConflictError, IdempotencyGoneError, InvalidCursorError, InvalidTaskError, PayloadTooLargeError } from './task-errors';
import { LIST_LIMIT_DEFAULT } from '../queue/task-limits';

/** A submitted task, and whether it is the one an earlier request with the same idempotency key created. */
export interface Submitted {
  task: TaskRecord;
  replayed: boolean;
}

/** The tasks of a batch in order; `replayed`: the 0-based indexes answered with an earlier request's task. */
export interface SubmittedBatch {
  tasks: TaskRecord[];
  replayed: number[];
}

@Injectable()
export class TasksService {
  constructor(
    private readonly queue: QueueRepository,
    private readonly handlers: HandlerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: TaskMetrics,
  ) {}

  /** Validates against the handler of the type, then stores; the task is durable when this resolves. */
  async create(dto: CreateTaskDto): Promise<TaskRecord> {
    return (await this.submit(dto)).task;
  }

  /**
   * As create, honouring an Idempotency-Key: a repeat of an earlier request with the same key and body
   * answers that request's task and creates nothing; with another body it is an IdempotencyConflictError,
   * and once that task is gone an IdempotencyGoneError.
   */
  async submit(dto: CreateTaskDto, idempotencyKey?: string): Promise<Submitted> {
    // submitAll for one task, without its arrays and per-queue grouping (the cost of every POST /tasks).
    const checked = this.check(dto);
    if (checked.tooLarge !== undefined) throw new PayloadTooLargeError(checked.tooLarge);
    if (checked.problem !== undefined) throw new InvalidTaskError(checked.problem);
    const task = this.newTask(dto, checked.payload, idempotencyKey, checked.def);
    const { createdAt, outcomes, rejected } = await this.queue.submit([task]);
    const outcome = outcomes[0];
    if (rejected) throw idempotencyError([outcome], [idempotencyKey], false);
    if (outcome.kind === 'created') {
      this.metrics.created(task.type, 1, task.queue);
      return { task: createdRecord(task, createdAt), replayed: false };
    }
    return { task: outcome.kind === 'replayed' ? outcome.task : createdRecord(task, createdAt), replayed: true };
  }

  /**
   * All or none: every task is checked first (payload size, then its type's validation), then all are
   * stored in one script call. Every bad task is named; a 413 when a payload is over MAX_PAYLOAD_BYTES, else 400.
   */
  async createMany(dtos: CreateBatchTaskDto[]): Promise<TaskRecord[]> {
    return (await this.submitMany(dtos)).tasks;
  }

  /** As createMany, each element with its own idempotency_key (the rules of submit; see README). */
  async submitMany(dtos: CreateBatchTaskDto[]): Promise<SubmittedBatch> {
    return this.submitAll(dtos, dtos.map((d) => d.idempotency_key), true);
  }

  /**
   * The answer to a batch some of whose elements broke the field rules (TaskBatchPipe): it names those
   * (`elements[i].problem`) and the type and payload problems of every element that has a task to check
   * (`elements[i].task`: its type and payload), so that one answer names every bad element. A 413 when a
   * payload is too large, else a 400.
   */
  batchRejection(elements: Array<{ problem?: string; task?: CreateTaskDto }>): Error {
    const found = new Problems(true);
    elements.forEach(({ problem, task }, i) => {
      found.add(i, problem, false);
      if (!task) return;
      const checked = this.check(task);
      found.add(i, checked.tooLarge ?? checked.problem, checked.tooLarge !== undefined);
    });
    return found.error();
  }

  /** `keys`: each task's idempotency key, from the header (`batch` false) or the element's idempotency_key. */
  private async submitAll(dtos: CreateTaskDto[], keys: Array<string | undefined>, batch: boolean): Promise<SubmittedBatch> {
    const found = new Problems(batch);
    const tasks: NewTask[] = dtos.map((dto, i) => {
      const checked = this.check(dto);
      found.add(i, checked.tooLarge ?? checked.problem, checked.tooLarge !== undefined);
      return this.newTask(dto, checked.payload, keys[i], checked.def);
    });
    if (found.any()) throw found.error();
    const { createdAt, outcomes, rejected } = await this.storeByQueue(tasks);
    if (rejected) throw idempotencyError(outcomes, keys, batch);
    for (let i = 0; i < outcomes.length; i += 1) if (outcomes[i].kind === 'created') this.metrics.created(tasks[i].type, 1, tasks[i].queue);
    const records = tasks.map((t, i) => createdRecord(t, createdAt[i]));
    const replayed: number[] = [];
    const answered = outcomes.map((o, i) => {
      if (o.kind === 'created') return records[i];
      replayed.push(i);
      // 'same-as': the key came earlier in this call, with the same request.
      return o.kind === 'replayed' ? o.task : records[o.kind === 'same-as' ? o.index : i];
    });
    return { tasks: answered, replayed };
  }

  /**
   * One script call per queue (a script touches one queue's slot), all at once: each queue's tasks are
   * stored all or none, and a failure in one queue does not undo another (README "Named queues").
   * Outcomes and creation times per task, in order; `same-as` indexes count in the whole list.
   */
  private async storeByQueue(tasks: NewTask[]): Promise<{ createdAt: number[]; outcomes: SubmitOutcome[]; rejected: boolean }> {
    const groups = new Map<string, number[]>();
    tasks.forEach((t, i) => {
      const queue = t.queue ?? DEFAULT_QUEUE;
      const group = groups.get(queue);
      if (group) group.push(i);
      else groups.set(queue, [i]);
    });
    const createdAt: number[] = new Array<number>(tasks.length);
    const outcomes: SubmitOutcome[] = new Array<SubmitOutcome>(tasks.length);
    let rejected = false;
    // Stamped by Redis' clock: the answer carries the creation time that is stored.
    const results = await Promise.all([...groups.values()].map((indexes) => this.queue.submit(indexes.map((i) => tasks[i]))));
    [...groups.values()].forEach((indexes, g) => {
      const result = results[g];
      rejected ||= result.rejected;
      indexes.forEach((taskIndex, j) => {
        const o = result.outcomes[j];
        createdAt[taskIndex] = result.createdAt;
        outcomes[taskIndex] = o.kind === 'same-as' ? { kind: 'same-as', index: indexes[o.index] } : o;
      });
    });
    return { createdAt, outcomes, rejected };
  }

  /**
   * The task a POST /tasks body describes, checked as POST /tasks checks it (payload size, then its
   * type's handler) and not stored: the template of a periodic schedule's tasks.
   */
  prepare(dto: CreateTaskDto): NewTask {
    const checked = this.check(dto);
    if (checked.tooLarge) throw new PayloadTooLargeError(checked.tooLarge);
    if (checked.problem) throw new InvalidTaskError(checked.problem);
    return this.newTask(dto, checked.payload, undefined, checked.def);
  }

  /**
   * The stored form of a request's payload (json-value.ts) and what is wrong with the request: its size
   * (413), else its type or its payload as the type sees it (400).
   */
  private check(dto: CreateTaskDto): { payload: string; def?: TaskTypeDefinition; tooLarge?: string; problem?: string } {
    const def = this.handlers.definition(dto.type);
    const value = dto.payload !== undefined ? dto.payload : def ? absentPayload(def) : '';
    const payload = encodeJsonValue(value);
    const tooLarge = this.payloadSizeProblem(payload);
    if (tooLarge) return { payload, tooLarge };
    if (!def) return { payload, problem: `unknown task type "${dto.type}"; known types: ${this.handlers.types().join(', ')}` };
    const checked = checkPayload(def, value);
    return checked.ok ? { payload, def } : { payload, def, problem: checked.problem };
  }

  /**
   * The type's own timeoutMs, maxRetry and backoff (TaskHandlerOptions) stand in for what the request
   * leaves out, here at submit: the task is stored, shown and run with them like with its own options.
   */
  private newTask(dto: CreateTaskDto, payload: string, idempotencyKey: string | undefined, def: TaskTypeDefinition | undefined): NewTask {
    const typeDefaults = def?.options ?? {};
    const queue = dto.queue ?? DEFAULT_QUEUE;
    const maxRetry = dto.max_retry ?? typeDefaults.maxRetry ?? this.config.retry.defaultMaxRetry;
    const task: NewTask = { id: newTaskId(queue), queue, type: dto.type, payload, maxRetry };
    if (dto.delay_ms !== undefined) task.delayMs = dto.delay_ms;
    if (dto.run_at !== undefined) task.runAt = parseRunAt(dto.run_at);
    if (dto.priority !== undefined && dto.priority !== 'normal') task.priority = dto.priority;
    const timeoutMs = dto.timeout_ms ?? typeDefaults.timeoutMs;
    if (timeoutMs !== undefined) task.timeoutMs = timeoutMs;
    const backoff = dto.backoff ?? (typeDefaults.backoff && toBackoffDto(typeDefaults.backoff));
    if (backoff !== undefined) task.backoff = this.resolveBackoff(backoff);
    if (idempotencyKey !== undefined) {
      task.idempotencyKey = idempotencyKey;
      task.requestHash = requestHash(dto);
    }
    return task;
  }

  /** The policy a task is stored with: what it gave, each field it left out at today's default. */
  private resolveBackoff(given: BackoffDto): BackoffPolicy {
    return {
      type: given.type ?? 'exponential',
      delayMs: given.delay_ms ?? this.config.retry.baseDelayMs,
      maxDelayMs: given.max_delay_ms ?? this.config.retry.maxDelayMs,
      jitter: given.jitter ?? false,
    };
  }

  /** Measured in UTF-8 bytes, as stored. A UTF-16 code unit is at most 3 bytes: short payloads skip the count. */
  private payloadSizeProblem(payload: string): string | undefined {
    const max = this.config.limits.maxPayloadBytes;
    if (payload.length * 3 <= max) return undefined;
    const bytes = Buffer.byteLength(payload, 'utf8');
    return bytes > max ? `payload is ${bytes} bytes; the limit is ${max} bytes (MAX_PAYLOAD_BYTES)` : undefined;
  }

  async get(id: string): Promise<TaskRecord> {
    const task = await this.queue.get(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  list(query: ListTasksQuery): Promise<TaskPage> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !cursor) throw new InvalidCursorError();
    const filter = { queue: query.queue, status: query.status, type: query.type, priority: query.priority };
    return this.queue.list(filter, query.limit ?? LIST_LIMIT_DEFAULT, cursor);
  }

  async delete(id: string): Promise<void> {
    await this.queue.delete(id);
    this.metrics.deleted(queueOfTaskId(id));
  }
}

/** A type's backoff option in the shape of a request's `backoff` (the request's replaces it whole). */
function toBackoffDto(b: TaskTypeBackoff): BackoffDto {
  return { type: b.type, delay_ms: b.delayMs, max_delay_ms: b.maxDelayMs, jitter: b.jitter };
}

/** Batch problems reported in one answer; the rest are counted (`; and N more`). */
const MAX_REPORTED = 20;

/**
 * The rule of a batch's 4xx about its elements: `no task was created: ` and every bad element's problems
 * by index (`[1] max_retry must be between 0 and 25; [3] unknown task type "x"`), whatever the batch's
 * size. A single task's (POST /tasks) one problem as it is.
 */
function batchMessage(problems: string[]): string {
  const more = problems.length > MAX_REPORTED ? `; and ${problems.length - MAX_REPORTED} more` : '';
  return `no task was created: ${problems.slice(0, MAX_REPORTED).join('; ')}${more}`;
}

/** The problems of the tasks of one request, in order; a 413 when a payload is too large, else a 400. */
class Problems {
  private readonly messages: string[] = [];
  private tooLarge = false;

  constructor(private readonly batch: boolean) {}

  add(index: number, problem: string | undefined, tooLarge: boolean): void {
    if (problem === undefined) return;
    this.messages.push(this.batch ? `[${index}] ${problem}` : problem);
    this.tooLarge ||= tooLarge;
  }

  any(): boolean {
    return this.messages.length > 0;
  }

  error(): Error {
    const message = this.batch ? batchMessage(this.messages) : this.messages[0];
    return this.tooLarge ? new PayloadTooLargeError(message) : new InvalidTaskError(message);
  }
}

/** The record of a task this call created, as it was stored (no need to read it back). */
function createdRecord(t: NewTask, createdAt: number): TaskRecord {
  const record: TaskRecord = {
    id: t.id,
    queue: t.queue ?? DEFAULT_QUEUE,
    type: t.type,
    payload: t.payload,
    maxRetry: t.maxRetry,
    status: 'pending',
    retries: 0,
    attempts: 0,
    stalls: 0,
    createdAt,
    updatedAt: createdAt,
  };
  // As enqueue.lua decides: delay_ms wins over run_at, and a time not after the creation is due at once.
  const runAt = t.delayMs !== undefined ? createdAt + t.delayMs : t.runAt;
  if (runAt !== undefined && runAt > createdAt) record.runAt = runAt;
  if (t.priority !== undefined) record.priority = t.priority;
  if (t.timeoutMs !== undefined) record.timeoutMs = t.timeoutMs;
  if (t.backoff !== undefined) record.backoff = t.backoff;
  return record;
}

/** The 422 (a key was used with another request) or 410 (a key's task is gone) of a rejected submit. */
function idempotencyError(outcomes: SubmitOutcome[], keys: Array<string | undefined>, batch: boolean): Error {
  const conflict = outcomes.some((o) => o.kind === 'conflict');
  const problems: string[] = [];
  outcomes.forEach((o, i) => {
    const element = batch ? `[${i}] ` : '';
    const name = `${batch ? 'idempotency_key' : 'Idempotency-Key'} ${JSON.stringify(keys[i])}`;
    if (o.kind === 'conflict') problems.push(`${element}${name} was already used with a different request body`);
    else if (o.kind === 'gone' && !conflict) problems.push(`${element}the task created with ${name} no longer exists (deleted, or removed after TASK_RETENTION_S)`);
  });
  const message = batch ? batchMessage(problems) : problems[0];
  return conflict ? new IdempotencyConflictError(message) : new IdempotencyGoneError(message);
}
