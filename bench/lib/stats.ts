/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Largest and smallest by a loop: spreading 100,000 values into Math.max's arguments overflows the stack. */
export function maxOf(values: number[]): number {
  return values.reduce((a, b) => Math.max(a, b), -Infinity);
}

export function minOf(values: number[]): number {
  return values.reduce((a, b) => Math.min(a, b), Infinity);
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Repeated measurements of one figure. */
export class Sample {
  readonly values: number[] = [];

  constructor(
    readonly unit: string,
    /** Decimals to print. */
    readonly digits = 0,
  ) {}

  add(v: number): this {
    this.values.push(v);
    return this;
  }

  get median(): number {
    return median(this.values);
  }

  get min(): number {
    return minOf(this.values);
  }

  get max(): number {
    return maxOf(this.values);
  }

  /** `median (min–max)`, or just the value when measured once. */
  format(): string {
    if (this.values.length === 0) return 'n/a';
    const f = (v: number) => fmtNumber(v, this.digits);
    if (this.values.length === 1) return f(this.values[0]);
    return `${f(this.median)} (${f(this.min)}–${f(this.max)})`;
  }
}

export function fmtNumber(v: number, digits = 0): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `a / b` as `2.31×`. */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}
