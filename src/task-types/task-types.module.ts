import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EchoHandler } from './echo.handler';
import { FlakyHandler } from './flaky.handler';
import { HandlerRegistry } from './handler-registry';
import { ReverseHandler } from './reverse.handler';
import { SlowHandler } from './slow.handler';
import { SumHandler } from './sum.handler';

/** Adding a task type: write a @TaskType provider class and list it here. */
export const BUILT_IN_HANDLERS = [EchoHandler, ReverseHandler, SumHandler, SlowHandler, FlakyHandler];

@Module({
  imports: [DiscoveryModule],
  providers: [HandlerRegistry, ...BUILT_IN_HANDLERS],
  exports: [HandlerRegistry],
})
export class TaskTypesModule {}
