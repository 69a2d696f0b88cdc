import type { LeasedTask } from '../queue/task.model';

/** What a leased task tells the metrics: its type and the times fetch gave it. */
export type MeteredTask = Pick<LeasedTask, 'type' | 'dueForMs' | 'ageMs' | 'leasedAt'>;

/**
 * What the task code reports to metrics, one call per event. An abstract class so that it is its own
 * injection token; services built by hand (unit specs, the check-queue CLI) default to NO_TASK_METRICS.
 * Every method is a counter increment (or one histogram observation) on a child cached per type:
 * nothing is allocated per task.
 */
export abstract class TaskMetrics {
  /** Tasks stored by one POST (or batch), all of this type. */
  abstract created(type: string, count: number): void;
  /** A handler was started (an attempt); observes how long the task waited since it was due. */
  abstract started(task: MeteredTask): void;
  /** An attempt ended at its timeout (counted again as retried or failed by its outcome). */
  abstract timedOut(type: string): void;
  /** An attempt's outcome was written; `durationMs` is the handler's run time. A final one observes the task's age. */
  abstract settled(task: MeteredTask, outcome: 'complete' | 'retry' | 'fail', durationMs: number): void;
  /** An expired lease was recovered by the maintenance loop (no type: recover.lua reports ids only). */
  abstract recovered(outcome: 'retry' | 'failed' | 'stalled'): void;
  /** Tasks deleted through the API, one or `count` at a time (no type: the delete scripts answer counts only). */
  abstract deleted(count?: number): void;
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
