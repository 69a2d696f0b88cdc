import { DynamicModule, ExecutionContext, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config';
import { RedisThrottlerStorage } from '../queue/rate-limit.storage';

/** The limiter's window: RATE_LIMIT_PER_MIN counts requests per this long. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** Probes and scrapes are never limited: a limit on them would turn load into restarts or blind spots. */
export function isUnlimitedPath(path: string): boolean {
  const p = path.toLowerCase().replace(/\/+$/, '');
  return p === '/health' || p.startsWith('/health/') || p === '/metrics';
}

/**
 * RATE_LIMIT_PER_MIN with @nestjs/throttler: every API route (all but /health* and /metrics) counts
 * against one budget per client address, kept in Redis (RedisThrottlerStorage) so that every replica
 * counts together. A client over the limit gets 429 with Retry-After (seconds until it may send again:
 * the block lasts one window from the request that went over) and the JSON error body.
 * Imported only where the API is served and RATE_LIMIT_PER_MIN > 0.
 */
@Module({})
export class RateLimitModule {
  static forRoot(config: AppConfig): DynamicModule {
    const limit = config.rateLimit.perMinute;
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [RedisThrottlerStorage],
          useFactory: (storage: RedisThrottlerStorage) => ({
            throttlers: [{ name: 'default', ttl: RATE_LIMIT_WINDOW_MS, limit }],
            storage,
            skipIf: (context: ExecutionContext) => isUnlimitedPath(context.switchToHttp().getRequest<Request>().path),
            // One budget per client across routes (the default is one per route and client).
            generateKey: (_context: ExecutionContext, tracker: string) => tracker,
            errorMessage: `rate limit exceeded: at most ${limit} requests per minute (RATE_LIMIT_PER_MIN); retry after Retry-After seconds`,
          }),
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
