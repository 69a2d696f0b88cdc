import { Module } from '@nestjs/common';
import { QueuesController } from './queues.controller';

/** GET /queues, POST /queues/{name}/pause|resume; imported where the API is served. */
@Module({
  controllers: [QueuesController],
})
export class QueuesModule {}
