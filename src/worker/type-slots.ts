/**
 * Per-type limits on the handlers running at once in this process (@TaskHandler `concurrency`). Not a
 * second queue: a leased task of a type at its limit stays in the prefetch buffer (its lease is held
 * and heart-beaten like any buffered task) and starts when a handler of its type ends; tasks of other
 * types behind it start meanwhile. The buffer's bounds (WORKER_PREFETCH, PREFETCH_MAX_BYTES) bound how
 * many such tasks wait here.
 */
export class TypeSlots {
  private readonly runningByType = new Map<string, number>();

  /** `limitOf(type)`: the type's concurrency, undefined for none. */
  constructor(private readonly limitOf: (type: string) => number | undefined) {}

  /** Whether a task of this type may start now. */
  hasRoom(type: string): boolean {
    const limit = this.limitOf(type);
    return limit === undefined || (this.runningByType.get(type) ?? 0) < limit;
  }

  take(type: string): void {
    this.runningByType.set(type, (this.runningByType.get(type) ?? 0) + 1);
  }

  release(type: string): void {
    const n = (this.runningByType.get(type) ?? 0) - 1;
    if (n > 0) this.runningByType.set(type, n);
    else this.runningByType.delete(type);
  }
}
