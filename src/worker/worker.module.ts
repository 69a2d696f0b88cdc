import { Module } from '@nestjs/common';
import { MaintenanceService } from './maintenance.service';
import { OutcomeWriter } from './outcome-writer';
import { TaskExecutor } from './task-executor';
import { WorkerPoolService } from './worker-pool.service';
import { WorkerPresenceService } from './worker-presence.service';

/** Runs tasks: the pool, its executor, the recovery/retention loops and the heartbeat of GET /workers. Imported when APP_ROLE runs workers. */
@Module({
  providers: [WorkerPoolService, TaskExecutor, OutcomeWriter, MaintenanceService, WorkerPresenceService],
  exports: [WorkerPoolService, MaintenanceService],
})
export class WorkerModule {}
