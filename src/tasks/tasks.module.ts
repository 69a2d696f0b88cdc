import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { RequireJsonBatchMiddleware, RequireJsonMiddleware } from './require-json.middleware';
import { TaskAdminController } from './task-admin.controller';
import { TaskAdminService } from './task-admin.service';
import { TasksController } from './tasks.controller';
import { TaskEventStream } from './task-event-stream';
import { TaskWaiter } from './task-waiter';
import { TasksService } from './tasks.service';

@Module({
  controllers: [TasksController, TaskAdminController],
  providers: [TasksService, TaskWaiter, TaskEventStream, TaskAdminService],
  exports: [TasksService],
})
export class TasksModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // One middleware per route: Express' route matching (case-insensitive, trailing slash optional)
    // decides which shape is checked, exactly as it decides which handler runs.
    consumer.apply(RequireJsonMiddleware).forRoutes({ path: 'tasks', method: RequestMethod.POST });
    consumer.apply(RequireJsonBatchMiddleware).forRoutes({ path: 'tasks/batch', method: RequestMethod.POST });
  }
}
