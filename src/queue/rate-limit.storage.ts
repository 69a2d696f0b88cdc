import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis, { Cluster } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { RateLimitedReporter } from '../common/rate-limited-logger';
import { rateLimitKeyPrefix } from './queue-keys';
import { RedisConnections } from './redis-connections';

/** What the limiter learns of one request (@nestjs/throttler does not export the type by name). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** At most one log line per this long while the rate limiter cannot reach Redis. */
const REPORT_EVERY_MS = 30_000;

/**
 * The rate limiter's counters in Redis (@nest-lab/throttler-storage-redis), so every API replica counts
 * against the same limit. Its own connection, a duplicate of the command connection (same server or
 * cluster, timeouts, TLS) whose keyPrefix puts every key under `<QUEUE_PREFIX>:ratelimit:`.
 * Connected at boot where limits apply. Fails open: when Redis does not answer, the request is let through (a limiter must not turn an
 * outage of its store into an outage of the API) and one line per REPORT_EVERY_MS says so.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private connection?: Redis | Cluster;
  private storage?: ThrottlerStorageRedisService;
  private readonly reporter = new RateLimitedReporter(REPORT_EVERY_MS);
  private readonly keyPrefix: string;

  constructor(
    private readonly connections: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectPinoLogger('RateLimit') private readonly logger: PinoLogger,
  ) {
    this.keyPrefix = rateLimitKeyPrefix(config.queue.prefix);
    // Connected at boot when limits are on (commands are not queued while it connects).
    if (config.rateLimit.perMinute > 0 && config.role !== 'worker') void this.limiter;
  }

  /** The connection and the library's storage on it; a process without RATE_LIMIT_PER_MIN never opens it. */
  private get limiter(): ThrottlerStorageRedisService {
    if (!this.storage) {
      const { keyPrefix } = this;
      const commands = this.connections.commands;
      if (commands instanceof Cluster) {
        const cluster = commands.duplicate(undefined, { keyPrefix });
        this.storage = new ThrottlerStorageRedisService(cluster);
        this.connection = cluster;
      } else {
        const redis = commands.duplicate({ keyPrefix, connectionName: 'taskqueue-ratelimit' });
        this.storage = new ThrottlerStorageRedisService(redis);
        this.connection = redis;
      }
      // Failures are reported per request (increment); without a listener ioredis would print each one.
      this.connection.on('error', () => undefined);
    }
    return this.storage;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    try {
      const record = await this.limiter.increment(key, ttl, limit, blockDuration, throttlerName);
      this.reporter.reset();
      return record;
    } catch (err) {
      this.reporter.report((suppressed) =>
        this.logger.warn(
          { err: err instanceof Error ? err.message : String(err), suppressed },
          'rate limiter cannot reach Redis: requests are not limited until it answers',
        ),
      );
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  onApplicationShutdown(): void {
    this.connection?.disconnect(false);
  }
}
