import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';
import { PromTaskMetrics } from './prom-task-metrics';
import { QueueGaugesCollector } from './queue-gauges.collector';
import { TaskMetrics } from './task-metrics';

/** GET /metrics of every role; TaskMetrics for the API and worker code that counts tasks. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, QueueGaugesCollector, { provide: TaskMetrics, useClass: PromTaskMetrics }],
  exports: [TaskMetrics],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('{*all}');
  }
}
