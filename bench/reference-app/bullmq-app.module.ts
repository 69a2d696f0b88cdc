import { BullModule, InjectQueue } from '@nestjs/bullmq';
import { BadRequestException, Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Queue } from 'bullmq';
import { BULL_JOB_OPTS, BULL_PREFIX, BULL_QUEUE } from '../lib/bull';
import { parseTaskBody, taskResponse } from './task-body';

/**
 * The reference a NestJS user would write with @nestjs/bullmq: POST /tasks validates the JSON body
 * lightly and calls `queue.add`; POST /tasks/batch calls `queue.addBulk`. Jobs carry the same retry
 * promise as our tasks (BULL_JOB_OPTS).
 */
@Controller('tasks')
export class BullTasksController {
  constructor(@InjectQueue(BULL_QUEUE) private readonly queue: Queue) {}

  @Post()
  async create(@Body() raw: unknown) {
    const body = parseTaskBody(raw);
    const job = await this.queue.add(body.type, { payload: body.payload }, { ...BULL_JOB_OPTS, attempts: body.max_retry + 1 });
    return taskResponse(job.id, body, job.timestamp);
  }

  @Post('batch')
  async createBatch(@Body() raw: unknown) {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > 1000) throw new BadRequestException('body must be an array of 1..1000 tasks');
    const bodies = raw.map(parseTaskBody);
    const jobs = await this.queue.addBulk(
      bodies.map((b) => ({ name: b.type, data: { payload: b.payload }, opts: { ...BULL_JOB_OPTS, attempts: b.max_retry + 1 } })),
    );
    return jobs.map((job, i) => taskResponse(job.id, bodies[i], job.timestamp));
  }
}

@Controller('health')
export class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

@Module({
  imports: [
    BullModule.forRoot({
      connection: { host: '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT) },
      prefix: BULL_PREFIX,
    }),
    BullModule.registerQueue({ name: BULL_QUEUE }),
  ],
  controllers: [BullTasksController, HealthController],
})
export class BullmqAppModule {}
