import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrors, ApiKeyProtected } from '../http/api-errors.decorator';
import { TASK_ID_PATTERN } from '../queue/task-id';
import { BATCH_MAX_TASKS, IDEMPOTENCY_KEY_PATTERN } from '../queue/task-limits';
import { CreateBatchTaskDto } from './dto/create-batch-task.dto';
import { CreateTaskDto } from './dto/create-task.dto';
import { idempotencyKeyOf } from './idempotency-key-header';
import { ListTasksQuery } from './dto/list-tasks.query';
import { encodeCursor } from './list-cursor';
import { TaskBatchPipe } from './task-batch.pipe';
import { TaskIdPipe } from './task-id.pipe';
import { TaskEventStream } from './task-event-stream';
import { TaskResponse, toTaskResponse } from './task-response';
import { TaskWaiter, WaitResult } from './task-waiter';
import { TasksService } from './tasks.service';
import { WAIT_MAX_S, WaitSecondsPipe } from './wait-seconds.pipe';

/** POST /tasks reads `?wait` through this pipe itself (see create). */
const WAIT_SECONDS = new WaitSecondsPipe();

/** Says whether a `wait` ended because the task finished (`done`) or because time ran out (`timeout`). */
export const WAIT_HEADER = 'X-Task-Wait';

/**
 * On a request answered with the task an earlier request with the same idempotency key created:
 * `true` on POST /tasks; on POST /tasks/batch the 0-based indexes of such elements, comma-separated.
 */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

// OpenAPI pieces shared by several routes (the document is generated from these decorators).
const WAIT_QUERY = ApiQuery({
  name: 'wait',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: WAIT_MAX_S },
  description: `answer once the task finished or after this many seconds (see ${WAIT_HEADER})`,
});
const WAIT_HEADER_DOC = {
  [WAIT_HEADER]: { description: 'with ?wait: `done` when the task finished, `timeout` when the wait ran out', schema: { type: 'string', enum: ['done', 'timeout'] } },
};
const ID_PARAM = ApiParam({
  name: 'id',
  schema: { type: 'string', pattern: TASK_ID_PATTERN.source },
  description: 'task id: 22 characters of base64url (queue default) or <queue>.<id>, a UUID for tasks created before 2026-11-30; anything else is 404',
});
const NOT_FOUND = 'no task has this id (or it is not a task id)';
const BAD_BODY = 'body is not valid: empty, not JSON, wrong Content-Type, unknown or invalid fields (the message names each)';
const TOO_LARGE = 'body larger than BODY_LIMIT, or a payload larger than MAX_PAYLOAD_BYTES';

/** Aborts when the client goes away before its answer was sent. */
function clientGone(res: Response): AbortSignal {
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/** The waited-for task with its header, or nothing when the client left (there is no one to answer). */
function waitAnswer(res: Response, result: WaitResult | undefined): TaskResponse | undefined {
  if (!result) return undefined;
  res.setHeader(WAIT_HEADER, result.outcome);
  return toTaskResponse(result.task);
}

@ApiTags('tasks')
@ApiKeyProtected()
@ApiExtraModels(TaskResponse)
@Controller('tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly waiter: TaskWaiter,
    private readonly eventStream: TaskEventStream,
  ) {}

  /**
   * `?wait=N`: creates, then answers once the task finished or after N seconds (see WAIT_HEADER).
   * With an Idempotency-Key that an earlier request used with the same body: 200 with that request's task.
   */
  @Post()
  @ApiOperation({ summary: 'Submit a task', description: 'Creates a pending task. With ?wait=N, answers once it finished or after N seconds.' })
  @WAIT_QUERY
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
    description: 'a repeat with the same body answers 200 with the task the first request created',
  })
  @ApiCreatedResponse({ type: TaskResponse, description: 'the task created', headers: WAIT_HEADER_DOC })
  @ApiOkResponse({
    type: TaskResponse,
    description: 'the task an earlier request with the same Idempotency-Key created',
    headers: { ...WAIT_HEADER_DOC, [REPLAYED_HEADER]: { description: '`true`', schema: { type: 'string', enum: ['true'] } } },
  })
  @ApiErrors({
    400: `${BAD_BODY}; an unknown type; a bad wait or Idempotency-Key`,
    410: 'the task this Idempotency-Key created was deleted',
    413: TOO_LARGE,
    422: 'this Idempotency-Key was used with another body',
  })
  async create(
    @Body() dto: CreateTaskDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskResponse | undefined> {
    // `?wait` and the Idempotency-Key header are read here, not as parameters of their own: Nest runs
    // each such parameter through promises and the global validation pipe, which made about 5.6 KB of
    // the 58 KB a request allocated (bench/profile.ts --alloc; docs/performance.md). Same checks, same
    // 400s; a bad body is reported before a bad `wait` or key.
    const wait = WAIT_SECONDS.transform(req.query.wait);
    const idempotencyKey = idempotencyKeyOf(req);
    const { task, replayed } = await this.tasks.submit(dto, idempotencyKey);
    if (replayed) res.status(200).setHeader(REPLAYED_HEADER, 'true');
    if (wait === undefined) return toTaskResponse(task);
    return waitAnswer(res, await this.waiter.wait(task.id, wait, clientGone(res), task));
  }

  /**
   * Up to 1000 tasks in one request, validated like single ones, stored all or none. Elements whose
   * idempotency_key repeats an earlier request are answered with its task (REPLAYED_HEADER names them);
   * 200 when every element was such a repeat, else 201.
   */
  @Post('batch')
  @ApiOperation({ summary: 'Submit several tasks', description: `1 to ${BATCH_MAX_TASKS} tasks, validated like single ones, stored all or none.` })
  @ApiBody({ type: [CreateBatchTaskDto] })
  @ApiCreatedResponse({
    type: [TaskResponse],
    description: 'the tasks, in the order given',
    headers: { [REPLAYED_HEADER]: { description: '0-based indexes of the elements answered with an earlier task (idempotency_key)', schema: { type: 'string' } } },
  })
  @ApiOkResponse({ type: [TaskResponse], description: 'every element repeated an earlier idempotency_key' })
  @ApiErrors({
    400: `${BAD_BODY}; not an array of 1 to ${BATCH_MAX_TASKS}; no task was created`,
    410: 'a task an idempotency_key created was deleted',
    413: TOO_LARGE,
    422: 'an idempotency_key was used with another body',
  })
  async createBatch(@Body(TaskBatchPipe) dtos: CreateBatchTaskDto[], @Res({ passthrough: true }) res: Response): Promise<TaskResponse[]> {
    const { tasks, replayed } = await this.tasks.submitMany(dtos);
    if (replayed.length > 0) res.setHeader(REPLAYED_HEADER, replayed.join(','));
    if (replayed.length === tasks.length) res.status(200);
    return tasks.map(toTaskResponse);
  }

  /** Open tasks newest created first, then finished ones latest finished first. A next page is announced in `Link: <...>; rel="next"` (RFC 8288). */
  @Get()
  @ApiOperation({
    summary: 'List tasks',
    description:
      'Open tasks (pending, processing) newest created first, then finished ones (completed, failed) latest finished first; without history; a next page is announced in the Link header.',
  })
  @ApiOkResponse({
    type: [TaskResponse],
    description: 'one page',
    headers: { Link: { description: 'the next page, when there is one: `<url>; rel="next"` (RFC 8288)', schema: { type: 'string' } } },
  })
  @ApiErrors({ 400: 'a query parameter is not valid (the message names it)' })
  async list(
    @Query() query: ListTasksQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskResponse[]> {
    const page = await this.tasks.list(query);
    if (page.next) {
      const params = new URLSearchParams();
      if (query.queue) params.set('queue', query.queue);
      if (query.status) params.set('status', query.status);
      if (query.type) params.set('type', query.type);
      if (query.priority) params.set('priority', query.priority);
      if (query.limit) params.set('limit', String(query.limit));
      params.set('cursor', encodeCursor(page.next));
      res.setHeader('Link', `<${req.baseUrl}${req.path}?${params.toString()}>; rel="next"`);
    }
    return page.tasks.map(toTaskResponse);
  }

  /** With its attempt history. `?wait=N`: answers once the task finished or after N seconds (see WAIT_HEADER). */
  @Get(':id')
  @ApiOperation({ summary: 'Get a task', description: 'With its attempt history. With ?wait=N, answers once it finished or after N seconds.' })
  @ID_PARAM
  @WAIT_QUERY
  @ApiOkResponse({ type: TaskResponse, description: 'the task with its history', headers: WAIT_HEADER_DOC })
  @ApiErrors({ 400: 'wait is not valid', 404: NOT_FOUND })
  async get(
    @Param('id', TaskIdPipe) id: string,
    @Query('wait', WaitSecondsPipe) wait: number | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskResponse | undefined> {
    if (wait === undefined) return toTaskResponse(await this.tasks.get(id));
    return waitAnswer(res, await this.waiter.wait(id, wait, clientGone(res)));
  }

  /** Server-Sent Events of the task's state changes, ending after it finished (TaskEventStream). */
  @Get(':id/events')
  @ApiOperation({
    summary: 'Follow a task (Server-Sent Events)',
    description:
      'The first event is the task as it is, then one event per state change, named pending, processing, retrying, completed, ' +
      'failed or deleted, its data the task JSON (or a short form when it already moved on); ends after completed, failed or deleted.',
  })
  @ID_PARAM
  @ApiOkResponse({ description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors({ 404: NOT_FOUND })
  async events(@Param('id', TaskIdPipe) id: string, @Res() res: Response): Promise<void> {
    await this.eventStream.serve(id, res);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a task', description: 'A running task is stopped for good.' })
  @ID_PARAM
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiErrors({ 404: NOT_FOUND })
  async delete(@Param('id', TaskIdPipe) id: string): Promise<void> {
    await this.tasks.delete(id);
  }
}
