import type { QueueRepository } from '../queue/queue.repository';

/**
 * Listens on the cancel channel for running tasks deleted in any process and hands their ids to
 * `onCancel`. Stopping only drops the listener: no UNSUBSCRIBE is sent on the way out (with Redis
 * away it would wait forever); the subscriber connection is simply disconnected when Redis
 * connections close.
 */
export class CancelSubscriber {
  private drop?: () => void;

  constructor(
    private readonly queue: Pick<QueueRepository, 'onCancel'>,
    private readonly onCancel: (taskId: string) => void,
  ) {}

  start(): void {
    this.drop ??= this.queue.onCancel((id) => this.onCancel(id));
  }

  stop(): void {
    this.drop?.();
    this.drop = undefined;
  }
}
