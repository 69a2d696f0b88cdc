import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiKeyProtected } from '../http/api-errors.decorator';
import { QueueStats } from '../ops/dto/stats.response';
import { toQueueStats } from '../ops/stats.service';
import { QueueGaugesReader } from '../queue/queue-gauges.reader';
import { QueueRepository } from '../queue/queue.repository';
import { QUEUE_NAME_PATTERN } from '../queue/task-id';
import { QueueNamePipe } from './queue-name.pipe';

export class QueuesResponse {
  @ApiProperty({ type: [QueueStats], description: 'every registered queue (default always), by name' })
  queues: QueueStats[];
}

const NAME_PARAM = ApiParam({ name: 'name', schema: { type: 'string', pattern: QUEUE_NAME_PATTERN.source }, description: 'queue name' });
const BAD_NAME = 'name is not a queue name (the message says why)';

/** GET /queues and pausing a queue (README "Named queues"). */
@ApiTags('queues')
@ApiKeyProtected()
@Controller('queues')
export class QueuesController {
  constructor(
    private readonly queue: QueueRepository,
    private readonly gauges: QueueGaugesReader,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List queues',
    description: 'Every queue something was enqueued into (and default): counts by state, the age of the oldest due task, paused or not.',
  })
  @ApiOkResponse({ type: QueuesResponse, description: 'the queues, read now' })
  @ApiErrors({})
  async list(): Promise<QueuesResponse> {
    return { queues: (await this.gauges.read()).map(toQueueStats) };
  }

  @Post(':name/pause')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pause a queue',
    description: 'Workers lease no more tasks from it (tasks already running finish); kept in Redis, so it survives restarts. Idempotent.',
  })
  @NAME_PARAM
  @ApiOkResponse({ type: QueueStats, description: 'the queue, now paused' })
  @ApiErrors({ 400: BAD_NAME })
  async pause(@Param('name', QueueNamePipe) name: string): Promise<QueueStats> {
    await this.queue.pause(name);
    return toQueueStats(await this.gauges.readQueue(name));
  }

  @Post(':name/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a queue', description: 'Workers lease from it again at once. Idempotent.' })
  @NAME_PARAM
  @ApiOkResponse({ type: QueueStats, description: 'the queue, now not paused' })
  @ApiErrors({ 400: BAD_NAME })
  async resume(@Param('name', QueueNamePipe) name: string): Promise<QueueStats> {
    await this.queue.resume(name);
    return toQueueStats(await this.gauges.readQueue(name));
  }
}
