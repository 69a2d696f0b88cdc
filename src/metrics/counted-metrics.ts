import type { Counter, Registry } from 'prom-client';

/**
 * Metrics counted per task in plain numbers: prom-client's own children build a label key, a
 * labels object and check them on every increment or observation, which was the largest part of a
 * worker's per-task metrics cost. What is counted here reaches the registry when it is read, so
 * /metrics shows the same series and values.
 */

/** A counter child counted in a number, added to its prom-client series when the registry reads it (`flush`). */
export class BufferedCount {
  private pending = 0;

  constructor(private readonly child: { inc(value?: number): void }) {}

  inc(value = 1): void {
    // What prom-client refuses (a decrease, NaN) is refused at once, as before.
    if (!(value >= 0) || !Number.isFinite(value)) this.child.inc(value);
    else this.pending += value;
  }

  flush(): void {
    if (this.pending === 0) return;
    const n = this.pending;
    this.pending = 0;
    this.child.inc(n);
  }
}

/** Makes `counter` flush `flush()`'s counts into itself each time the registry reads it. */
export function flushOnRead(counter: Counter, flush: () => void): void {
  (counter as unknown as { collect?: () => void }).collect = flush;
}

interface Series {
  labels: Record<string, string>;
  /** Per bucket (not cumulative), then the observations above the last bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** One label set of a CountedHistogram. */
export class HistogramChild {
  constructor(
    private readonly bounds: readonly number[],
    private readonly series: Series,
  ) {}

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const { bounds, series } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i += 1;
    series.counts[i] += 1;
    series.sum += value;
    series.count += 1;
  }
}

/**
 * A Prometheus histogram registered in a prom-client Registry, exported exactly as prom-client's
 * Histogram exports one (`_bucket` with `le`, `+Inf`, `_sum`, `_count`; a label set appears from its
 * first observation on), whose children count in plain numbers.
 */
export class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The child of these label values (in labelNames order); made once per label set by the caller. */
  labels(...values: string[]): HistogramChild {
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]));
      series = { labels, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    return new HistogramChild(this.bounds, series);
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** As prom-client's Histogram: labels and sharedLabels apart (the registry formats them). */
  getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i];
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** As prom-client's Histogram.get(): every value's labels in one object. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  /** As prom-client's buckets (exemplars are off). */
  exemplar?: null;
}
