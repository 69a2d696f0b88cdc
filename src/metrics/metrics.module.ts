import { Global, Module } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';
import { PromTaskMetrics } from './prom-task-metrics';
import { QueueGaugesCollector } from './queue-gauges.collector';
import { TaskMetrics } from './task-metrics';

/**
 * GET /metrics of every role; TaskMetrics for the API and worker code that counts tasks;
 * HttpMetricsMiddleware, which configureApp mounts as plain Express middleware (as Nest middleware
 * bound to every route it cost a path match, a WeakSet lookup and an exception proxy per request).
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, QueueGaugesCollector, HttpMetricsMiddleware, { provide: TaskMetrics, useClass: PromTaskMetrics }],
  exports: [TaskMetrics],
})
export class MetricsModule {}
