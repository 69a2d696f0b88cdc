import type { LeasedTask } from '../queue/task.model';

/** What a leased task tells the metrics: its type, its id (which names its queue) and the times fetch gave it. */
export type MeteredTask = Pick<LeasedTask, 'type' | 'dueForMs' | 'ageMs' | 'leasedAt'> & Partial<Pick<LeasedTask, 'id'>>;

/**
 * What the task code reports to metrics, one call per event. An abstract class so that it is its own
 * injection token; services built by hand (unit specs, the check-queue CLI) default to NO_TASK_METRICS.
 * Every method is a counter increment (or one histogram observation) on a child cached per queue and
 * type: nothing is allocated per task. A task's queue is the queue of its id (queueOfTaskId); where
 * only a type is given, the queue is passed along (default `default`).
 */
export abstract class TaskMetrics {
  /** Tasks stored by one POST (or batch), all of this type. */
  abstract created(type: string, count: number, queue?: string): void;
  /** A handler was started (an attempt); observes how long the task waited since it was due. */
  abstract started(task: MeteredTask): void;
  /** An attempt ended at its timeout (counted again as retried or failed by its outcome). */
  abstract timedOut(type: string, queue?: string): void;
  /** An attempt's outcome was written; `durationMs` is the handler's run time. A final one observes the task's age. */
  abstract settled(task: MeteredTask, outcome: 'complete' | 'retry' | 'fail', durationMs: number): void;
  /** An expired lease was recovered by the maintenance loop (no type: recover.lua reports ids only). */
  abstract recovered(outcome: 'retry' | 'failed' | 'stalled', queue?: string): void;
  /** Tasks of `queue` deleted through the API, one or `count` at a time (no type: the delete scripts answer counts only). */
  abstract deleted(queue: string, count?: number): void;
}

class NoTaskMetrics extends TaskMetrics {
  created(): void {}
  started(): void {}
  timedOut(): void {}
  settled(): void {}
  recovered(): void {}
  deleted(): void {}
}

/** Counts nothing: the default of services constructed outside the Nest container. */
export const NO_TASK_METRICS: TaskMetrics = new NoTaskMetrics();
