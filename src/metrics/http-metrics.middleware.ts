import { Injectable, NestMiddleware } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Counter, Histogram } from 'prom-client';
import { performance } from 'node:perf_hooks';
import { HTTP_SECONDS_BUCKETS, METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

/** Route label of requests no route matched (404s of unknown paths): raw URLs would be unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every request and its latency by method, route template (`/tasks/:id`, never the raw URL) and
 * status, when the response is finished. Express sets `req.route` once a route matched.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly requests: Counter;
  private readonly duration: Histogram;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    const labelNames = ['method', 'route', 'status'];
    this.requests = new Counter({ name: `${METRIC_PREFIX}http_requests_total`, help: 'HTTP requests answered.', labelNames, registers });
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from the request reaching the app to the end of its response.',
      labelNames,
      buckets: HTTP_SECONDS_BUCKETS,
      registers,
    });
  }

  use(req: Request, res: Response, next: () => void): void {
    const began = performance.now();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      const labels = { method: req.method, route: typeof route === 'string' ? route : UNMATCHED_ROUTE, status: String(res.statusCode) };
      this.requests.inc(labels);
      this.duration.observe(labels, (performance.now() - began) / 1000);
    });
    next();
  }
}
