import { Global, Module } from '@nestjs/common';
import { HttpShutdownService } from './http-shutdown.service';
import { ProcessState } from './process-state';

@Global()
@Module({
  providers: [ProcessState, HttpShutdownService],
  exports: [ProcessState],
})
export class LifecycleModule {}
