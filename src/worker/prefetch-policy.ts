/**
 * How many tasks a worker process leases beyond its running ones. Prefetching hides the fetch round
 * trip when tasks are short, but a prefetched task waits behind the running ones while another process
 * might be idle, and is delayed by a lease period if this process dies. So the buffer is sized to hold
 * about `workBudgetMs` of work per slot, from a moving average of recent task durations: hundreds of
 * instant tasks, none of five-second ones. Never more than `max` (WORKER_PREFETCH); until the first
 * task has finished, one per slot.
 */
export class PrefetchPolicy {
  private averageMs?: number;

  constructor(
    private readonly max: number,
    private readonly concurrency: number,
    private readonly workBudgetMs = 20,
  ) {}

  /** Feeds the duration of a finished task (ms) into the moving average. */
  record(durationMs: number): void {
    const d = Math.max(0, durationMs);
    this.averageMs = this.averageMs === undefined ? d : this.averageMs * 0.9 + d * 0.1;
  }

  /** Tasks to hold beyond the running ones, now. */
  get size(): number {
    if (this.max === 0) return 0;
    if (this.averageMs === undefined) return Math.min(this.max, this.concurrency);
    // Millisecond clocks report instant tasks as 0 ms: treat them as 0.05 ms.
    const perTask = Math.max(this.averageMs, 0.05);
    return Math.min(this.max, Math.floor((this.workBudgetMs * this.concurrency) / perTask));
  }
}
