import { QUEUE_NAME_MESSAGE, QUEUE_NAME_PATTERN } from '../queue/task-id';

/** Largest weight WORKER_QUEUES accepts for one queue. */
export const QUEUE_WEIGHT_MAX = 1000;

/** Which queues a worker process serves (WORKER_QUEUES, WORKER_QUEUES_STRICT). */
export interface WorkerQueuesConfig {
  /**
   * The queues and their weights, in the order given; undefined: every queue in the registry, each with
   * weight 1, rediscovered while running.
   */
  weighted?: Array<{ name: string; weight: number }>;
  /** Serve the queues in the order given: a queue is fetched from only while those before it have nothing due. */
  strict: boolean;
}

/**
 * Parses WORKER_QUEUES (`critical:6,default:3,low:1`; a name without `:weight` weighs 1), adding a problem
 * naming the variable for every bad entry. Unset or empty: every queue.
 */
export function parseWorkerQueues(text: string | undefined, strictText: string, problems: string[]): WorkerQueuesConfig {
  const strict = strictText === 'true';
  if (text === undefined || text.trim() === '') return { strict };
  const weighted: Array<{ name: string; weight: number }> = [];
  for (const entry of text.split(',')) {
    const match = /^\s*([^:\s]*)\s*(?::\s*(\S*)\s*)?$/.exec(entry);
    const name = match?.[1] ?? entry.trim();
    const weightText = match?.[2];
    if (!match || !QUEUE_NAME_PATTERN.test(name)) {
      problems.push(`WORKER_QUEUES: queue name "${name}" is not valid: it ${QUEUE_NAME_MESSAGE}`);
      continue;
    }
    const weight = weightText === undefined ? 1 : /^\d+$/.test(weightText) ? Number(weightText) : NaN;
    if (!Number.isInteger(weight) || weight < 1 || weight > QUEUE_WEIGHT_MAX) {
      problems.push(`WORKER_QUEUES: the weight of "${name}" must be an integer from 1 to ${QUEUE_WEIGHT_MAX} (got "${weightText}")`);
      continue;
    }
    if (weighted.some((q) => q.name === name)) {
      problems.push(`WORKER_QUEUES: queue "${name}" is listed twice`);
      continue;
    }
    weighted.push({ name, weight });
  }
  return { weighted, strict };
}
