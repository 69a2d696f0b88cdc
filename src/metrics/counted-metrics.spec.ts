import { Counter, Histogram, Registry } from 'prom-client';
import { BufferedCount, CountedHistogram, flushOnRead } from './counted-metrics';

describe('CountedHistogram', () => {
  it("exports exactly what prom-client's Histogram exports for the same observations", async () => {
    const bounds = [0.005, 0.01, 0.5, 1];
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['queue', 'type'], buckets: bounds, registers: [theirs] });
    const counted = new CountedHistogram('h_seconds', 'help text', ['queue', 'type'], bounds, ours);
    const observations: Array<[string, string, number]> = [
      ['default', 'echo', 0],
      ['default', 'echo', 0.005],
      ['default', 'echo', 0.0051],
      ['default', 'echo', 0.7],
      ['default', 'echo', 3],
      ['critical', 'sum', 1],
      ['critical', 'sum', 0.02],
    ];
    for (const [queue, type, v] of observations) {
      reference.labels(queue, type).observe(v);
      counted.labels(queue, type).observe(v);
    }
    // A label set with no observation is not exported (as prom-client's).
    counted.labels('default', 'never');
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());

    reference.reset();
    counted.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(() => counted.labels('default', 'echo').observe(NaN)).toThrow(TypeError);
  });
});

describe('BufferedCount', () => {
  it('adds its counts to the prom-client series each time the registry reads it', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['queue'], registers: [registry] });
    const count = new BufferedCount(counter.labels('default'));
    flushOnRead(counter, () => count.flush());
    count.inc();
    count.inc(2);
    expect(await registry.metrics()).toContain('c_total{queue="default"} 3');
    count.inc();
    expect(await registry.metrics()).toContain('c_total{queue="default"} 4');
    expect(() => count.inc(-1)).toThrow();
  });
});
