import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { QueueUnavailableError, TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { FINAL_EVENTS, TaskEventBus } from '../queue/task-event-bus';
import { TaskRecord } from '../queue/task.model';

/** 'done': the task is completed or failed; 'timeout': the wait ended first (its time, or shutdown). */
export type WaitOutcome = 'done' | 'timeout';

export interface WaitResult {
  task: TaskRecord;
  outcome: WaitOutcome;
}

export const isFinished = (task: TaskRecord): boolean => task.status === 'completed' || task.status === 'failed';

/**
 * Resolves true when `p` resolves, false when `signal` aborts first. Leaves no listener on the signal.
 */
export function until(p: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
  });
}

/**
 * Waits for a task to finish without polling Redis: the process' one events subscription
 * (TaskEventBus) wakes the wait when the task completes, fails or is deleted; each wait holds one
 * timer. The task is read at most: once at the start, once when the subscription is ready (a change
 * made between the two is seen), once per wake-up, and once at the end.
 */
@Injectable()
export class TaskWaiter implements OnModuleDestroy {
  /** Waits in progress, ended early (answering the current state) when the process shuts down. */
  private readonly waits = new Set<AbortController>();

  constructor(
    private readonly queue: QueueRepository,
    private readonly events: TaskEventBus,
  ) {}

  /**
   * The task as soon as it is completed or failed, or as it is after `seconds`. Throws
   * TaskNotFoundError if it does not exist or is deleted meanwhile, QueueUnavailableError if Redis
   * does not answer the last read. Resolves undefined if `gone` aborts first (the client left).
   * `known`: the task as just read or created, saving the first read.
   */
  async wait(id: string, seconds: number, gone: AbortSignal, known?: TaskRecord): Promise<WaitResult | undefined> {
    const first = known ?? (await this.read(id));
    // A task handed in (an idempotent replay) is read again for its history.
    if (isFinished(first)) return { task: known ? await this.read(id) : first, outcome: 'done' };

    const end = new AbortController();
    const timer = setTimeout(() => end.abort('timeout'), seconds * 1000);
    const leave = () => end.abort('gone');
    gone.addEventListener('abort', leave, { once: true });
    if (gone.aborted) leave();
    this.waits.add(end);
    let wake: () => void = () => undefined;
    const watch = this.events.watch(id, (event) => {
      if (event.name === 'resync' || FINAL_EVENTS.has(event.name)) wake();
    });
    try {
      let next: Promise<void> = watch.ready;
      while (await until(next, end.signal)) {
        // Armed before the read: a change during the read wakes the next round.
        next = new Promise((resolve) => (wake = resolve));
        const task = await this.readBetween(id);
        if (task && isFinished(task)) return { task, outcome: 'done' };
      }
      if (end.signal.reason === 'gone') return undefined;
      const task = await this.read(id);
      return { task, outcome: isFinished(task) ? 'done' : 'timeout' };
    } finally {
      clearTimeout(timer);
      gone.removeEventListener('abort', leave);
      watch.stop();
      this.waits.delete(end);
    }
  }

  /** Waits in progress in this process. */
  get waiting(): number {
    return this.waits.size;
  }

  /** First shutdown phase: every wait answers now with the task's current state. */
  onModuleDestroy(): void {
    for (const end of this.waits) end.abort('shutdown');
  }

  private async read(id: string): Promise<TaskRecord> {
    const task = await this.queue.get(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  /** A read in the middle of a wait: a Redis outage there is not an answer yet (the last read decides). */
  private async readBetween(id: string): Promise<TaskRecord | undefined> {
    try {
      return await this.read(id);
    } catch (err) {
      if (err instanceof QueueUnavailableError) return undefined;
      throw err;
    }
  }
}
