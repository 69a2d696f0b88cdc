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
  /** task id -> its attempt held here, or its attempts (almost always one: no key string, no set per task). */
  private readonly byId = new Map<string, HeldAttempt | HeldAttempt[]>();
  private count = 0;
  private emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  add(task: LeasedTask): HeldAttempt {
    const held: HeldAttempt = { task, state: 'buffered' };
    const found = this.byId.get(task.id);
    if (found === undefined) {
      this.byId.set(task.id, held);
    } else {
      // The same lease added again replaces the one held.
      const others = (Array.isArray(found) ? found : [found]).filter((h) => h.task.token !== task.token);
      this.count -= (Array.isArray(found) ? found.length : 1) - others.length;
      this.byId.set(task.id, others.length === 0 ? held : [...others, held]);
    }
    this.count += 1;
    return held;
  }

  get(lease: Lease): HeldAttempt | undefined {
    const found = this.byId.get(lease.id);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return found.task.token === lease.token ? found : undefined;
    return found.find((h) => h.task.token === lease.token);
  }

  /** Every attempt of this task id held here. */
  withId(id: string): HeldAttempt[] {
    const found = this.byId.get(id);
    if (found === undefined) return [];
    return Array.isArray(found) ? [...found] : [found];
  }

  /** Stops holding the attempt (its outcome is written, or it was handed back or dropped). */
  release(lease: Lease): void {
    const found = this.byId.get(lease.id);
    if (found === undefined) return;
    if (!Array.isArray(found)) {
      if (found.task.token !== lease.token) return;
      this.byId.delete(lease.id);
    } else {
      const i = found.findIndex((h) => h.task.token === lease.token);
      if (i < 0) return;
      const rest = found.filter((_, j) => j !== i);
      this.byId.set(lease.id, rest.length === 1 ? rest[0] : rest);
    }
    this.count -= 1;
    if (this.count === 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** The leases to extend: every held attempt. */
  leases(): Lease[] {
    const out: Lease[] = [];
    for (const h of this.values()) out.push({ id: h.task.id, token: h.task.token });
    return out;
  }

  *values(): IterableIterator<HeldAttempt> {
    for (const found of this.byId.values()) {
      if (Array.isArray(found)) yield* found;
      else yield found;
    }
  }

  /** Resolves once nothing is held. */
  whenEmpty(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }
}
