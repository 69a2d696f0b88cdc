import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/** Prometheus scrape endpoint of this process (every role serves its own). */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      "This process's metrics in the Prometheus text format (names prefixed taskqueue_). Queue gauges are read from Redis at " +
      'most once a second; when Redis does not answer they are left out and the rest is served. METRICS_API_KEY protects it when set.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'the exposition text (version 0.0.4)', content: { 'text/plain': { schema: { type: 'string' } } } })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
