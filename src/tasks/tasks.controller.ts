import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { encodeCursor } from './list-cursor';
import { TaskBatchPipe } from './task-batch.pipe';
import { TaskIdPipe } from './task-id.pipe';
import { TaskResponse, toTaskResponse } from './task-response';
import { TasksService } from './tasks.service';

@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  async create(@Body() dto: CreateTaskDto): Promise<TaskResponse> {
    return toTaskResponse(await this.tasks.create(dto));
  }

  /** Up to 1000 tasks in one request, validated like single ones, stored all or none. */
  @Post('batch')
  async createBatch(@Body(TaskBatchPipe) dtos: CreateTaskDto[]): Promise<TaskResponse[]> {
    return (await this.tasks.createMany(dtos)).map(toTaskResponse);
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
      if (query.limit) params.set('limit', String(query.limit));
      params.set('cursor', encodeCursor(page.next));
      res.setHeader('Link', `<${req.baseUrl}${req.path}?${params.toString()}>; rel="next"`);
    }
    return page.tasks.map(toTaskResponse);
  }

  @Get(':id')
  async get(@Param('id', TaskIdPipe) id: string): Promise<TaskResponse> {
    return toTaskResponse(await this.tasks.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', TaskIdPipe) id: string): Promise<void> {
    await this.tasks.delete(id);
  }
}
