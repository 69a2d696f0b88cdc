import { BackgroundLoop, LoopLogger } from '../common/background-loop';
import type { RandomSource } from '../common/random';
import type { WorkerQueuesConfig } from '../config/worker-queues-config';
import { QueueUnavailableError } from '../queue/queue-errors';
import type { FetchResult, QueueRepository } from '../queue/queue.repository';
import { DEFAULT_QUEUE } from '../queue/task-id';
import type { LeasedTask } from '../queue/task.model';

/**
 * How often a worker serving every queue reads the registry (one SMEMBERS). A new queue is normally
 * joined at once, from the registry's channel (QueueRepository.onQueueAdded); this read is the fallback
 * for a message lost, serving the queue within this plus MAX_BLOCK_MS.
 */
export const DISCOVER_EVERY_MS = 5000;

interface Weighted {
  name: string;
  weight: number;
}

/**
 * The order of one fetch round, asynq's model: strict = as configured; otherwise a weighted random
 * order (each place drawn among the queues left, with probability weight / sum of their weights), so a
 * queue of weight 6 comes first twice as often as one of weight 3, and no queue starves.
 */
export function fetchOrder(queues: readonly Weighted[], strict: boolean, random: RandomSource): string[] {
  if (strict || queues.length <= 1) return queues.map((q) => q.name);
  const left = [...queues];
  let total = left.reduce((sum, q) => sum + q.weight, 0);
  const order: string[] = [];
  while (left.length > 0) {
    let r = random.next() * total;
    let i = 0;
    while (i < left.length - 1 && r >= left[i].weight) {
      r -= left[i].weight;
      i += 1;
    }
    const [picked] = left.splice(i, 1);
    total -= picked.weight;
    order.push(picked.name);
  }
  return order;
}

/**
 * The queues this worker process serves (WORKER_QUEUES), and the fetch and wait over them the Fetcher
 * uses in place of a single queue's: a round leases from the queues in fetchOrder until the room asked
 * for is filled, and an idle worker blocks once over every served queue's wake-up marker. With
 * WORKER_QUEUES unset it serves `default` and every queue in the registry, read again whenever the
 * registry's channel announces a new queue and every DISCOVER_EVERY_MS, so a queue created later is
 * served without a restart; a wait in progress then ends, so the next one includes the new queue.
 */
export class ServedQueues {
  private queues: Weighted[];
  /** The periodic read of the registry (absent with WORKER_QUEUES set). */
  readonly discovery?: BackgroundLoop;
  private readonly listeners: Array<(names: readonly string[]) => void> = [];
  /** One per waitForWork in progress: aborted when the served set grows. */
  private readonly waits = new Set<AbortController>();
  private dropAnnouncements?: () => void;

  constructor(
    private readonly queue: Pick<QueueRepository, 'fetch' | 'waitForWork' | 'whenConnected' | 'queueNames' | 'onQueueAdded'>,
    private readonly config: WorkerQueuesConfig,
    private readonly random: RandomSource,
    logger: LoopLogger,
  ) {
    this.queues = config.weighted ? [...config.weighted] : [{ name: DEFAULT_QUEUE, weight: 1 }];
    if (!config.weighted) {
      this.discovery = new BackgroundLoop('queue discovery', DISCOVER_EVERY_MS, () => this.discover(), logger, (err) => err instanceof QueueUnavailableError);
    }
  }

  /** The names served now. */
  get names(): string[] {
    return this.queues.map((q) => q.name);
  }

  /** Called with the names whenever the served set grows (and once at start). */
  onChange(listener: (names: readonly string[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Starts discovery (when serving every queue); the first read happens at once. The registry's channel
   * is subscribed before the listeners run (CancelSubscriber subscribes in one), on the same connection.
   */
  start(): void {
    const discovery = this.discovery;
    if (discovery) {
      this.dropAnnouncements = this.queue.onQueueAdded((name) => {
        if (!this.names.includes(name)) void discovery.runOnce();
      });
    }
    for (const listener of this.listeners) listener(this.names);
    if (!discovery) return;
    discovery.start();
    void discovery.runOnce();
  }

  stop(): Promise<void> {
    this.dropAnnouncements?.();
    this.dropAnnouncements = undefined;
    return this.discovery?.stop() ?? Promise.resolve();
  }

  /** Reads the registry; new queues join with weight 1. */
  async discover(): Promise<void> {
    const names = await this.queue.queueNames();
    const known = new Set(this.names);
    const added = names.filter((n) => !known.has(n));
    if (added.length === 0) return;
    this.queues = [...this.queues, ...added.map((name) => ({ name, weight: 1 }))];
    for (const wait of this.waits) wait.abort();
    for (const listener of this.listeners) listener(this.names);
  }

  whenConnected(stop: AbortSignal): Promise<void> {
    return this.queue.whenConnected(stop);
  }

  /**
   * Leases up to `max` tasks (and `maxBytes` of payload) from the served queues in this round's order.
   * `nextRunInMs` is the earliest over the queues read; it matters only when nothing was leased, and
   * then every queue was read.
   */
  async fetch(max: number, leaseMs: number, maxBytes = 0): Promise<FetchResult> {
    const order = fetchOrder(this.queues, this.config.strict, this.random);
    if (order.length === 1) return this.queue.fetch(max, leaseMs, maxBytes, order[0]);
    const tasks: LeasedTask[] = [];
    let bytes = 0;
    let nextRunInMs: number | undefined;
    for (const name of order) {
      const room = max - tasks.length;
      const bytesLeft = maxBytes > 0 ? maxBytes - bytes : 0;
      if (room <= 0 || bytesLeft < 0 || (maxBytes > 0 && bytesLeft === 0)) break;
      const fetched = await this.queue.fetch(room, leaseMs, bytesLeft, name);
      for (const task of fetched.tasks) {
        tasks.push(task);
        bytes += task.payload.length;
      }
      if (fetched.nextRunInMs !== undefined) nextRunInMs = Math.min(nextRunInMs ?? Infinity, fetched.nextRunInMs);
    }
    return { tasks, nextRunInMs };
  }

  /**
   * One blocking wait over every served queue's wake-up marker (QueueRepository.waitForWork); it ends
   * early when the served set grows, so the caller fetches from the new queue and then waits on its
   * marker too.
   */
  async waitForWork(timeoutMs: number, stop: AbortSignal): Promise<void> {
    const wake = new AbortController();
    this.waits.add(wake);
    try {
      await this.queue.waitForWork(timeoutMs, stop, this.names, wake.signal);
    } finally {
      this.waits.delete(wake);
    }
  }
}
