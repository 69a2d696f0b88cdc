import { Module } from '@nestjs/common';
import { MaintenanceService } from './maintenance.service';
import { OutcomeWriter } from './outcome-writer';
import { TaskExecutor } from './task-executor';
import { WorkerPoolService } from './worker-pool.service';

/** Runs tasks: the pool, its executor, and the recovery/retention loops. Imported when APP_ROLE runs workers. */
@Module({
  providers: [WorkerPoolService, TaskExecutor, OutcomeWriter, MaintenanceService],
  exports: [WorkerPoolService, MaintenanceService],
})
export class WorkerModule {}
