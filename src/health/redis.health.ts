import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { QueueRepository } from '../queue/queue.repository';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly queue: QueueRepository,
  ) {}

  async check(key = 'redis') {
    const indicator = this.indicators.check(key);
    const started = Date.now();
    try {
      await this.queue.ping();
      return indicator.up({ latency_ms: Date.now() - started });
    } catch {
      // The cause (with addresses and Redis' own text) is logged by RedisConnections, once per outage;
      // a public probe only says what is wrong.
      return indicator.down({ message: 'Redis does not answer' });
    }
  }
}
