import { Injectable, NestMiddleware } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Counter } from 'prom-client';
import { performance } from 'node:perf_hooks';
import { BufferedCount, CountedHistogram, flushOnRead, HistogramChild } from './counted-metrics';
import { HTTP_SECONDS_BUCKETS, METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

/** Route label of requests no route matched (404s of unknown paths): raw URLs would be unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The series of one (method, route, status). */
interface HttpSeries {
  requests: BufferedCount;
  duration: HistogramChild;
}

/** When the request reached the middleware (performance.now()), on its response. */
const BEGAN = Symbol('http metrics: began');
type Timed = Response & { [BEGAN]?: number };

/**
 * Counts every request and its latency by method, route template (`/tasks/:id`, never the raw URL) and
 * status, when the response is finished. Express sets `req.route` once a route matched.
 * Per request: one 'finish' listener (the same function for every response) and one lookup of the
 * series' children, made once per (method, route, status); they count in plain numbers
 * (counted-metrics.ts), which reach the registry when it is read, so /metrics shows what
 * prom-client's Counter and Histogram would.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly requests: Counter;
  private readonly duration: CountedHistogram;
  /** method -> route -> status -> series. */
  private readonly children = new Map<string, Map<string, Map<number, HttpSeries>>>();
  private readonly counts: BufferedCount[] = [];
  private readonly onFinish: (this: Timed) => void;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    const labelNames = ['method', 'route', 'status'];
    this.requests = new Counter({ name: `${METRIC_PREFIX}http_requests_total`, help: 'HTTP requests answered.', labelNames, registers });
    flushOnRead(this.requests, () => this.counts.forEach((c) => c.flush()));
    this.duration = new CountedHistogram(
      `${METRIC_PREFIX}http_request_duration_seconds`,
      'Time from the request reaching the app to the end of its response.',
      labelNames,
      HTTP_SECONDS_BUCKETS,
      metrics.registry,
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.onFinish = function onFinish(this: Timed): void {
      const series = self.seriesOf(this.req.method, (this.req.route as { path?: unknown } | undefined)?.path, this.statusCode);
      series.requests.inc();
      series.duration.observe((performance.now() - (this[BEGAN] as number)) / 1000);
    };
  }

  use(_req: Request, res: Response, next: () => void): void {
    (res as Timed)[BEGAN] = performance.now();
    res.once('finish', this.onFinish);
    next();
  }

  private seriesOf(method: string, routePath: unknown, status: number): HttpSeries {
    const route = typeof routePath === 'string' ? routePath : UNMATCHED_ROUTE;
    let byRoute = this.children.get(method);
    if (!byRoute) this.children.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      const requests = new BufferedCount(this.requests.labels(method, route, String(status)));
      this.counts.push(requests);
      series = { requests, duration: this.duration.labels(method, route, String(status)) };
      byStatus.set(status, series);
    }
    return series;
  }
}
