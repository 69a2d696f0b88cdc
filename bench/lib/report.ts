import { median, ratio, Sample } from './stats';

/** One table of the report: a title, columns, rows of cells, and notes printed under it. */
export class Table {
  readonly rows: string[][] = [];
  readonly notes: string[] = [];

  constructor(
    readonly title: string,
    readonly headers: string[],
  ) {}

  row(...cells: string[]): this {
    this.rows.push(cells);
    return this;
  }

  note(text: string): this {
    this.notes.push(text);
    return this;
  }

  render(): string {
    const widths = this.headers.map((h, i) => Math.max(h.length, ...this.rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
    const out = [`### ${this.title}`, '', line(this.headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`];
    for (const r of this.rows) out.push(line(r));
    if (this.notes.length > 0) out.push('', ...this.notes.map((n) => `- ${n}`));
    return out.join('\n');
  }
}

/** Ratio of medians, `ours / reference`. */
export function medianRatio(ours: Sample, ref: Sample): string {
  return ratio(median(ours.values), median(ref.values));
}

/** `yes` / `no` against a target on the ratio or value. */
export function verdict(ok: boolean | undefined): string {
  if (ok === undefined) return 'n/a';
  return ok ? 'yes' : 'NO';
}
