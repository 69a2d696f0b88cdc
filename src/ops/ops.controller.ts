import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiKeyProtected } from '../http/api-errors.decorator';
import { WorkerRegistry } from '../queue/worker-registry';
import { StatsResponse } from './dto/stats.response';
import { toWorkerResponse, WorkersResponse } from './dto/workers.response';
import { StatsService } from './stats.service';

/** What an operator looks at: GET /stats and GET /workers (README "Stats and workers"). */
@ApiTags('operations')
@ApiKeyProtected()
@Controller()
export class OpsController {
  constructor(
    private readonly stats: StatsService,
    private readonly workers: WorkerRegistry,
  ) {}

  @Get('stats')
  @ApiOperation({
    summary: 'Queue statistics',
    description:
      'Counts by state (overall and per queue), tasks processed and failed in the last minute and hour with a per-minute ' +
      'series of the last 60 minutes, the oldest due task age, live workers, and Redis version and memory.',
  })
  @ApiOkResponse({ type: StatsResponse, description: 'the statistics, read now' })
  @ApiErrors({})
  async getStats(): Promise<StatsResponse> {
    return this.stats.stats();
  }

  @Get('workers')
  @ApiOperation({
    summary: 'Live worker processes',
    description: 'Every worker process whose heartbeat is younger than TASK_LEASE_MS; a process that shuts down removes itself.',
  })
  @ApiOkResponse({ type: WorkersResponse, description: 'the live worker processes' })
  @ApiErrors({})
  async getWorkers(): Promise<WorkersResponse> {
    return { workers: (await this.workers.list()).map(toWorkerResponse) };
  }
}
