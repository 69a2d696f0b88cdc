import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CreateBatchTaskDto } from './dto/create-batch-task.dto';
import { CreateTaskDto } from './dto/create-task.dto';
import { IdempotencyKey } from './idempotency-key.decorator';
import { ListTasksQuery } from './dto/list-tasks.query';
import { encodeCursor } from './list-cursor';
import { TaskBatchPipe } from './task-batch.pipe';
import { TaskIdPipe } from './task-id.pipe';
import { TaskEventStream } from './task-event-stream';
import { TaskResponse, toTaskResponse } from './task-response';
import { TaskWaiter, WaitResult } from './task-waiter';
import { TasksService } from './tasks.service';
import { WaitSecondsPipe } from './wait-seconds.pipe';

/** Says whether a `wait` ended because the task finished (`done`) or because time ran out (`timeout`). */
export const WAIT_HEADER = 'X-Task-Wait';

/**
 * On a request answered with the task an earlier request with the same idempotency key created:
 * `true` on POST /tasks; on POST /tasks/batch the 0-based indexes of such elements, comma-separated.
 */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

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
  async create(
    @Body() dto: CreateTaskDto,
    @Query('wait', WaitSecondsPipe) wait: number | undefined,
    @Res({ passthrough: true }) res: Response,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<TaskResponse | undefined> {
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
  async createBatch(@Body(TaskBatchPipe) dtos: CreateBatchTaskDto[], @Res({ passthrough: true }) res: Response): Promise<TaskResponse[]> {
    const { tasks, replayed } = await this.tasks.submitMany(dtos);
    if (replayed.length > 0) res.setHeader(REPLAYED_HEADER, replayed.join(','));
    if (replayed.length === tasks.length) res.status(200);
    return tasks.map(toTaskResponse);
  }

  /** Newest first. A next page is announced in `Link: <...>; rel="next"` (RFC 8288). */
  @Get()
  async list(
    @Query() query: ListTasksQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskResponse[]> {
    const page = await this.tasks.list(query);
    if (page.next) {
      const params = new URLSearchParams();
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
  async events(@Param('id', TaskIdPipe) id: string, @Res() res: Response): Promise<void> {
    await this.eventStream.serve(id, res);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', TaskIdPipe) id: string): Promise<void> {
    await this.tasks.delete(id);
  }
}
