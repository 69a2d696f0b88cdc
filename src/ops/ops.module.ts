import { Module } from '@nestjs/common';
import { OpsController } from './ops.controller';
import { StatsService } from './stats.service';

/** GET /stats and GET /workers; imported where the API is served. */
@Module({
  controllers: [OpsController],
  providers: [StatsService],
})
export class OpsModule {}
