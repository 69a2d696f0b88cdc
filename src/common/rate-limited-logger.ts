/**
 * Lets a background loop report a failure once per interval instead of once per tick, so a Redis outage
 * yields one clear line (plus a count of what was suppressed) rather than a log storm.
 */
export class RateLimitedReporter {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `emit` with the number of reports suppressed since the last emitted one, or not at all. */
  report(emit: (suppressed: number) => void): void {
    const t = this.now();
    if (t - this.lastAt < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    this.lastAt = t;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    emit(suppressed);
  }

  /** Forget the last report so the next failure is logged at once (call when the thing recovers). */
  reset(): boolean {
    const wasFailing = this.lastAt !== -Infinity;
    this.lastAt = -Infinity;
    this.suppressed = 0;
    return wasFailing;
  }
}
