import { Controller, Delete, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiKeyProtected } from '../http/api-errors.decorator';
import { TASK_ID_PATTERN } from '../queue/task-id';
import { ADMIN_CHUNK } from '../queue/queue-admin.repository';
import { DeletedResponse, DeleteTasksQuery, RetriedResponse, RetryFailedQuery } from './dto/bulk-action.query';
import { TaskAdminService } from './task-admin.service';
import { TaskIdPipe } from './task-id.pipe';
import { TaskResponse, toTaskResponse } from './task-response';

const CHUNKS = `Done in chunks of at most ${ADMIN_CHUNK} tasks per Redis script call (Redis serves other clients between them); answers once every chunk is done.`;

/** An operator's actions on tasks (README "Admin actions"). */
@ApiTags('tasks')
@ApiKeyProtected()
@Controller('tasks')
export class TaskAdminController {
  constructor(private readonly admin: TaskAdminService) {}

  @Post('retry-failed')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Retry every failed task',
    description: `Every failed task (of one queue and/or type when given) goes back to pending with a fresh retry budget. ${CHUNKS}`,
  })
  @ApiAcceptedResponse({ type: RetriedResponse, description: 'how many failed tasks went back to pending' })
  @ApiErrors({ 400: 'queue or type is not valid (the message names it)' })
  async retryFailed(@Query() query: RetryFailedQuery): Promise<RetriedResponse> {
    return { retried: await this.admin.retryFailed(query) };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry a failed task', description: 'The failed task goes back to pending, due now, with a fresh retry budget; its history is kept.' })
  @ApiParam({ name: 'id', schema: { type: 'string', pattern: TASK_ID_PATTERN.source }, description: 'task id: 22 characters of base64url (queue default) or <queue>.<id>; a UUID for tasks created before 2026-11-30' })
  @ApiAcceptedResponse({ type: TaskResponse, description: 'the task, pending again' })
  @ApiErrors({ 404: 'no task has this id', 409: 'the task is not failed (the message names its state)' })
  async retry(@Param('id', TaskIdPipe) id: string): Promise<TaskResponse> {
    return toTaskResponse(await this.admin.retry(id));
  }

  @Delete()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Delete finished tasks',
    description: `Deletes the completed or failed tasks (of one queue, finished at least older_than_s ago, when given) with their history. ${CHUNKS}`,
  })
  @ApiAcceptedResponse({ type: DeletedResponse, description: 'how many tasks were deleted' })
  @ApiErrors({ 400: 'status is missing or not completed/failed, or older_than_s or queue is not valid (the message names it)' })
  async deleteFinished(@Query() query: DeleteTasksQuery): Promise<DeletedResponse> {
    return { deleted: await this.admin.deleteFinished(query) };
  }
}
