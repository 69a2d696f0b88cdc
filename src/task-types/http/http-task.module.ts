import { Module } from '@nestjs/common';
import { CLOCK, Clock } from '../../common/clock';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/app-config.module';
import { HostPolicy } from './host-policy';
import { HttpTaskClient } from './http-client';

/** The process's one HttpTaskClient (its keep-alive pool is opened on first use, closed on shutdown). */
@Module({
  providers: [
    {
      provide: HttpTaskClient,
      useFactory: (config: AppConfig, clock: Clock) =>
        new HttpTaskClient({
          policy: new HostPolicy(config.httpTasks.allowedHosts),
          clock,
          signingSecret: config.httpTasks.signingSecret,
          maxResponseBytes: config.httpTasks.maxResponseBytes,
        }),
      inject: [APP_CONFIG, CLOCK],
    },
  ],
  exports: [HttpTaskClient],
})
export class HttpTaskClientModule {}
