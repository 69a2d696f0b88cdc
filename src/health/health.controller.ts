import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ProcessHealthIndicator } from './process.health';
import { RedisHealthIndicator } from './redis.health';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly process: ProcessHealthIndicator,
  ) {}

  /** Overall health: Redis answers and the worker loop (if any) runs. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.redis.check(), () => this.process.workers()]);
  }

  /** Liveness: the process serves HTTP. Never depends on Redis, so an outage does not restart pods. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: Redis answers and the process is not shutting down. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.process.acceptingTraffic(), () => this.redis.check()]);
  }
}
