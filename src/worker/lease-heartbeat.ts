import { BackgroundLoop, LoopLogger } from '../common/background-loop';
import { QueueUnavailableError } from '../queue/queue-errors';
import type { Lease, QueueRepository } from '../queue/queue.repository';
import type { LeaseTable } from './lease-table';

/**
 * Extends every lease the table holds, one script call every third of the lease period, so a
 * heartbeat may be missed twice before a lease expires. Leases Redis could not extend (the task was
 * deleted, recovered by another process, or re-leased) are handed to `onLost` by (id, token).
 */
export class LeaseHeartbeat {
  private readonly loop: BackgroundLoop;

  constructor(
    private readonly table: LeaseTable,
    private readonly queue: Pick<QueueRepository, 'heartbeat'>,
    private readonly leaseMs: number,
    private readonly onLost: (lease: Lease) => void,
    logger: LoopLogger,
  ) {
    this.loop = new BackgroundLoop(
      'lease heartbeat',
      Math.max(1, Math.floor(leaseMs / 3)),
      () => this.tick(),
      logger,
      // An outage is reported once, by RedisConnections.
      (err) => err instanceof QueueUnavailableError,
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Stops the loop and waits for a tick in progress (bounded by the Redis command timeout). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  async tick(): Promise<void> {
    const leases = this.table.leases();
    if (leases.length === 0) return;
    const lost = await this.queue.heartbeat(leases, this.leaseMs);
    for (const lease of lost) this.onLost(lease);
  }
}
