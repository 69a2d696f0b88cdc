import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { CLOCK, systemClock } from '../common/clock';
import { mathRandom, RANDOM } from '../common/random';
import { QueueIntegrityChecker } from './queue-integrity.checker';
import { QueueRepository } from './queue.repository';
import { RedisConnections } from './redis-connections';
import { ExponentialBackoffStrategy } from './retry/exponential-backoff.strategy';
import { RETRY_STRATEGY } from './retry/retry-strategy';

/** The only module that talks to Redis. Also provides the injected clock, randomness and retry policy. */
@Global()
@Module({
  providers: [
    RedisConnections,
    QueueRepository,
    QueueIntegrityChecker,
    { provide: CLOCK, useValue: systemClock },
    { provide: RANDOM, useValue: mathRandom },
    {
      provide: RETRY_STRATEGY,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new ExponentialBackoffStrategy(config.retry.baseDelayMs, config.retry.maxDelayMs),
    },
  ],
  exports: [QueueRepository, QueueIntegrityChecker, CLOCK, RANDOM, RETRY_STRATEGY],
})
export class QueueModule {}
