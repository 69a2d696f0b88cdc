import parsePrometheusTextFormat, { ParsedFamily, ParsedSample } from 'parse-prometheus-text-format';

/** A scrape parsed by a real exposition-format parser, with lookups by name and labels. */
export class Scrape {
  readonly families: Map<string, ParsedFamily>;

  constructor(readonly text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  }

  /** Samples of the family whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): ParsedSample[] {
    const family = this.families.get(name);
    if (!family) return [];
    return family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** Value of a counter or gauge sample (0 when absent: a labelled counter not yet touched). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((sum, m) => sum + Number(m.value ?? 0), 0);
  }

  /**
   * Observation count of a histogram's series whose labels include `labels`. parse-prometheus-text-format
   * 1.1.1 merges all series of a labelled histogram into one without labels, count or sum (its
   * flattenMetrics), so this reads the `<name>_count` lines of the text, which the parser has accepted.
   */
  count(name: string, labels: Record<string, string> = {}): number {
    if (this.families.get(name)?.type !== 'HISTOGRAM') return 0;
    let total = 0;
    for (const line of this.text.split('\n')) {
      const m = /^(\w+)_count\{(.*)\} (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const own = Object.fromEntries([...m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      if (Object.entries(labels).every(([k, v]) => own[k] === v)) total += Number(m[3]);
    }
    return total;
  }
}
