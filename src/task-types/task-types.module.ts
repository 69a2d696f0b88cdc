import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { EchoHandler } from './echo.handler';
import { FlakyHandler } from './flaky.handler';
import { HandlerRegistry } from './handler-registry';
import { HttpTaskHandler } from './http/http-task.handler';
import { HttpTaskClientModule } from './http/http-task.module';
import { ReverseHandler } from './reverse.handler';
import { SlowHandler } from './slow.handler';
import { SumHandler } from './sum.handler';
import { TaskHandlersModule } from './task-handlers.module';

/** The built-in types, registered like any other (TaskHandlersModule.forFeature). */
export const BUILT_IN_HANDLERS = [EchoHandler, ReverseHandler, SumHandler, HttpTaskHandler];
/** Demonstrations of a long and a failing task: left out with DEMO_TASK_TYPES=false. */
export const DEMO_HANDLERS = [SlowHandler, FlakyHandler];

/**
 * The registry of task types, global so the API, the worker and the metrics share it. Types of other
 * modules (TaskHandlersModule.forFeature in an application's own module) are found by the same registry.
 */
@Global()
@Module({})
export class TaskTypesModule {
  static forRoot(config: AppConfig): DynamicModule {
    const handlers = config.handlers.demoTaskTypes ? [...BUILT_IN_HANDLERS, ...DEMO_HANDLERS] : BUILT_IN_HANDLERS;
    return {
      module: TaskTypesModule,
      imports: [DiscoveryModule, TaskHandlersModule.forFeature(handlers, { imports: [HttpTaskClientModule] })],
      providers: [HandlerRegistry],
      exports: [HandlerRegistry],
    };
  }
}
