import type { QueueRepository } from '../queue/queue.repository';

/**
 * Listens on the cancel channel of every served queue for running tasks deleted in any process and
 * hands their ids to `onCancel`. Stopping only drops the listeners: no UNSUBSCRIBE is sent on the way
 * out (with Redis away it would wait forever); the subscriber connection is simply disconnected when
 * Redis connections close.
 */
export class CancelSubscriber {
  /** Queue -> drops its listener. */
  private readonly drops = new Map<string, () => void>();
  private stopped = false;

  constructor(
    private readonly queue: Pick<QueueRepository, 'onCancel'>,
    private readonly onCancel: (taskId: string) => void,
  ) {}

  /** Listens on the cancel channels of `queues` not listened to yet. */
  listen(queues: readonly string[]): void {
    if (this.stopped) return;
    for (const q of queues) if (!this.drops.has(q)) this.drops.set(q, this.queue.onCancel((id) => this.onCancel(id), q));
  }

  stop(): void {
    this.stopped = true;
    for (const drop of this.drops.values()) drop();
    this.drops.clear();
  }
}
