import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ProcessHealthIndicator } from './process.health';
import { RedisHealthIndicator } from './redis.health';

// Responses (200 and 503 with Terminus' report) are documented by @HealthCheck().
@ApiTags('health')
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
  @ApiOperation({ summary: 'Overall health', description: 'Redis answers and the worker loop (if any) runs.' })
  check() {
    return this.health.check([() => this.redis.check(), () => this.process.workers()]);
  }

  /**
   * Liveness: the process serves HTTP. Never depends on Redis, so an outage does not restart pods. Not
   * through HealthCheckService: Terminus answers every check of it 503 "shutting_down" once its
   * beforeApplicationShutdown hook has run, and a liveness 503 while a pod drains makes Kubernetes kill
   * it; it stays 200 until the listener closes (readiness is the probe that turns 503).
   */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness', description: 'The process serves HTTP; never depends on Redis, stays 200 while shutting down.' })
  live(): HealthCheckResult {
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  /** Readiness: Redis answers and the process is not shutting down. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness', description: 'Redis answers and the process is not shutting down.' })
  ready() {
    return this.health.check([() => this.process.acceptingTraffic(), () => this.redis.check()]);
  }
}
