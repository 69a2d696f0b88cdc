import type { Lease } from '../queue/queue.repository';
import type { LeasedTask } from '../queue/task.model';

/** Where a held attempt is: waiting in the prefetch buffer, running its handler, or having its outcome written. */
export type AttemptState = 'buffered' | 'running' | 'settling';

/** One attempt this process holds a lease on. */
export interface HeldAttempt {
  readonly task: LeasedTask;
  state: AttemptState;
  /** Set while the handler runs: stops it (the first reason stays). */
  attempt?: { abort(reason: 'deleted' | 'lease-lost' | 'shutdown'): void };
  /** When the handler started (process clock), while it runs. */
  startedAt?: number;
}

/** Identity of an attempt: the same task id leased again (after a recovery) is a different attempt. */
export function attemptKey(lease: Lease): string {
  return `${lease.token}:${lease.id}`;
}

/**
 * Every attempt this process holds, keyed by lease (id, token), never by id alone: if a lease is
 * recovered elsewhere while this process still runs the old attempt and this process then leases the
 * same id again, both attempts are held side by side, and what is done to one (abort, release,
 * heartbeat loss) never reaches the other.
 */
export class LeaseTable {
  private readonly attempts = new Map<string, HeldAttempt>();
  /** task id -> keys of its attempts held here (almost always one). */
  private readonly byId = new Map<string, Set<string>>();
  private emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.attempts.size;
  }

  add(task: LeasedTask): HeldAttempt {
    const key = attemptKey(task);
    const held: HeldAttempt = { task, state: 'buffered' };
    this.attempts.set(key, held);
    let keys = this.byId.get(task.id);
    if (!keys) this.byId.set(task.id, (keys = new Set()));
    keys.add(key);
    return held;
  }

  get(lease: Lease): HeldAttempt | undefined {
    return this.attempts.get(attemptKey(lease));
  }

  /** Every attempt of this task id held here. */
  withId(id: string): HeldAttempt[] {
    const keys = this.byId.get(id);
    if (!keys) return [];
    return [...keys].map((k) => this.attempts.get(k)).filter((h): h is HeldAttempt => h !== undefined);
  }

  /** Stops holding the attempt (its outcome is written, or it was handed back or dropped). */
  release(lease: Lease): void {
    const key = attemptKey(lease);
    if (!this.attempts.delete(key)) return;
    const keys = this.byId.get(lease.id);
    keys?.delete(key);
    if (keys?.size === 0) this.byId.delete(lease.id);
    if (this.attempts.size === 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** The leases to extend: every held attempt. */
  leases(): Lease[] {
    return [...this.attempts.values()].map((h) => ({ id: h.task.id, token: h.task.token }));
  }

  values(): IterableIterator<HeldAttempt> {
    return this.attempts.values();
  }

  /** Resolves once nothing is held. */
  whenEmpty(): Promise<void> {
    if (this.attempts.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }
}
