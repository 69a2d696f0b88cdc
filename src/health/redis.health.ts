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
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}
