import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { TaskHandlersModule } from '../worker/handlers/task-handlers.module';
import { RequireJsonMiddleware } from './require-json.middleware';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [TaskHandlersModule],
  controllers: [TasksController],
  providers: [TasksService],
})
export class TasksModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(RequireJsonMiddleware)
      .forRoutes({ path: 'tasks', method: RequestMethod.POST }, { path: 'tasks/batch', method: RequestMethod.POST });
  }
}
