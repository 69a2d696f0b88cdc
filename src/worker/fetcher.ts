import type { LoopLogger } from '../common/background-loop';
import { RateLimitedReporter } from '../common/rate-limited-logger';
import { sleep } from '../common/sleep';
import { QueueUnavailableError } from '../queue/queue-errors';
import type { Lease, QueueRepository } from '../queue/queue.repository';
import type { LeasedTask } from '../queue/task.model';
import type { LeaseTable } from './lease-table';
import type { PrefetchPolicy } from './prefetch-policy';

const FETCH_ERROR_PAUSE_MS = 1000;

export interface FetcherOptions {
  concurrency: number;
  leaseMs: number;
  /** Most payload bytes held in the buffer; a fetch asks for no more than what is left. */
  maxBufferBytes: number;
}

/**
 * The fetch loop and the prefetch buffer. One loop leases as many due tasks as there is room for in
 * one script call and holds them in the buffer, from which free slots take them (`take`) without a
 * round trip. When nothing is due it blocks on the wake-up marker until an enqueue or retry sets it,
 * or until the earliest waiting task is due. It fetches again when the buffer is down to half of
 * what PrefetchPolicy allows, so fetches are batched; otherwise it waits for room (`wake`).
 * Every fetched task is added to the lease table before anyone can see it.
 */
export class Fetcher {
  private readonly buffer: LeasedTask[] = [];
  private bufferedBytes = 0;
  private roomWaiters: Array<() => void> = [];
  private readonly stopController = new AbortController();
  private loop?: Promise<void>;
  private readonly errors = new RateLimitedReporter(30_000);

  constructor(
    private readonly queue: Pick<QueueRepository, 'fetch' | 'waitForWork' | 'whenConnected'>,
    private readonly table: LeaseTable,
    private readonly prefetch: PrefetchPolicy,
    private readonly options: FetcherOptions,
    /** Handlers running now (they take room in the lease budget). */
    private readonly runningCount: () => number,
    /** Called after tasks were added to the buffer. */
    private readonly onFetched: () => void,
    private readonly logger: LoopLogger,
  ) {}

  get running(): boolean {
    return this.loop !== undefined && !this.stopController.signal.aborted;
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.run();
  }

  /** Asks the loop to stop (at once if it is blocked waiting); resolves when it has. */
  stop(): Promise<void> {
    if (!this.stopController.signal.aborted) {
      this.stopController.abort();
      this.wake();
    }
    return this.loop ?? Promise.resolve();
  }

  /** The oldest buffered task that `canStart` allows (all by default); the others keep their place. */
  take(canStart: (task: LeasedTask) => boolean = () => true): LeasedTask | undefined {
    const i = this.buffer.findIndex(canStart);
    if (i < 0) return undefined;
    // Called once per task: no array for the one taken.
    const task = i === 0 ? (this.buffer.shift() as LeasedTask) : this.buffer.splice(i, 1)[0];
    this.bufferedBytes -= task.payload.length;
    return task;
  }

  /** Drops one attempt from the buffer; false when it is not buffered. */
  remove(lease: Lease): boolean {
    const i = this.buffer.findIndex((t) => t.id === lease.id && t.token === lease.token);
    if (i < 0) return false;
    const [task] = this.buffer.splice(i, 1);
    this.bufferedBytes -= task.payload.length;
    return true;
  }

  /** Empties the buffer (shutdown hands these back). */
  takeAll(): LeasedTask[] {
    this.bufferedBytes = 0;
    return this.buffer.splice(0);
  }

  /** Room may have changed (a slot or a lease was freed): let a waiting loop look again. */
  wake(): void {
    // Called at least twice per task (a slot freed, a lease released); the loop mostly is not waiting.
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async run(): Promise<void> {
    const stop = this.stopController.signal;
    await this.queue.whenConnected(stop);
    while (!stop.aborted) {
      const prefetch = this.prefetch.size;
      // Attempts being settled do not count: writing outcomes overlaps the next fetch.
      const room = this.options.concurrency + prefetch - this.buffer.length - this.runningCount();
      const bytesLeft = this.options.maxBufferBytes - this.bufferedBytes;
      if (room <= 0 || this.buffer.length > prefetch / 2 || bytesLeft <= 0) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        continue;
      }
      try {
        const fetched = await this.queue.fetch(room, this.options.leaseMs, bytesLeft);
        // Added even when a stop came meanwhile: the leases are ours, and shutdown hands them back.
        for (const task of fetched.tasks) {
          this.table.add(task);
          this.buffer.push(task);
          this.bufferedBytes += task.payload.length;
        }
        if (fetched.tasks.length > 0) {
          this.onFetched();
          continue;
        }
        const wait = fetched.nextRunInMs ?? Infinity;
        if (wait > 0) await this.queue.waitForWork(wait, stop);
      } catch (err) {
        if (stop.aborted) break;
        // A Redis outage is reported once, by RedisConnections; anything else is ours to say.
        if (!(err instanceof QueueUnavailableError)) {
          this.errors.report((suppressed) =>
            this.logger.error({ err: err instanceof Error ? err.message : String(err), suppressed }, 'cannot fetch tasks; retrying'),
          );
        }
        await sleep(FETCH_ERROR_PAUSE_MS, stop);
      }
    }
  }
}
