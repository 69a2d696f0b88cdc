import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TasksModule } from '../tasks/tasks.module';
import { SchedulerService } from './scheduler.service';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

/**
 * Periodic schedules: the API where the role serves it, and the scheduler loop in every process that
 * has SCHEDULER_ENABLED (API and worker roles alike; no leader is needed).
 */
@Module({})
export class SchedulesModule {
  static forRoot(config: AppConfig): DynamicModule {
    const api = config.role !== 'worker';
    const controllers: Type[] = api ? [SchedulesController] : [];
    const providers: Provider[] = [];
    if (api) providers.push(SchedulesService);
    if (config.schedules.schedulerEnabled) providers.push(SchedulerService);
    return { module: SchedulesModule, imports: api ? [TasksModule] : [], controllers, providers, exports: providers };
  }
}
