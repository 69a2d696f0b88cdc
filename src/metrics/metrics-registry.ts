import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'taskqueue_';
/** The queue label while named queues do not exist. */
export const DEFAULT_QUEUE = 'default';

/** Handler run and queue wait times: from a few ms to ten minutes (seconds, as Prometheus expects). */
export const TASK_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Creation to final outcome, retries and their backoff included: up to two hours. */
export const END_TO_END_SECONDS_BUCKETS = [...TASK_SECONDS_BUCKETS, 1800, 3600, 7200];
/** HTTP request latency (seconds); wait=N requests can last up to a minute. */
export const HTTP_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * One registry per application instance, not prom-client's global one: several apps in one process
 * (tests) would otherwise collide on metric names. Default Node process metrics included.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }
}
