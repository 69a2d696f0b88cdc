import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { QueueGaugesReader } from './queue-gauges.reader';
import { QueueIntegrityChecker } from './queue-integrity.checker';
import { QueueRepository } from './queue.repository';
import { RedisConnections } from './redis-connections';
import { ScheduleRepository } from './schedule.repository';
import { TaskEventBus } from './task-event-bus';
import { QueueAdminRepository } from './queue-admin.repository';
import { WorkerRegistry } from './worker-registry';
import { RedisThrottlerStorage } from './rate-limit.storage';
import { RANDOM, RandomSource } from '../common/random';
import { BackoffRetryStrategy } from './retry/backoff-retry.strategy';
import { RETRY_STRATEGY } from './retry/retry-strategy';

/** The only module that talks to Redis. Also provides the retry policy. */
@Global()
@Module({
  providers: [
    RedisConnections,
    QueueRepository,
    QueueGaugesReader,
    ScheduleRepository,
    TaskEventBus,
    WorkerRegistry,
    QueueAdminRepository,
    RedisThrottlerStorage,
    {
      provide: RETRY_STRATEGY,
      // RANDOM is optional: the check-queue CLI builds this module without CommonModule.
      inject: [APP_CONFIG, { token: RANDOM, optional: true }],
      useFactory: (config: AppConfig, random?: RandomSource) =>
        new BackoffRetryStrategy(config.retry.baseDelayMs, config.retry.maxDelayMs, random),
    },
  ],
  exports: [QueueRepository, QueueGaugesReader, ScheduleRepository, TaskEventBus, WorkerRegistry, QueueAdminRepository, RedisThrottlerStorage, RETRY_STRATEGY],
})
export class QueueModule {
  /**
   * The same module plus the integrity checker, for `npm run check-queue`. The service never scans its
   * queue, so it does not build one; tests construct it from the app's RedisConnections and repository.
   */
  static withIntegrityChecker(): DynamicModule {
    return { module: QueueModule, providers: [QueueIntegrityChecker], exports: [QueueIntegrityChecker] };
  }
}
