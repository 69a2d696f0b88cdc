import { JobsOptions, Queue } from 'bullmq';

export const BULL_QUEUE = 'bench';
export const BULL_PREFIX = 'bull';

/**
 * What our defaults give every task (max_retry 3, exponential backoff from 1 s), expressed as BullMQ
 * job options, so both sides store and promise the same. removeOnComplete stays false (BullMQ's
 * default), like our retention of finished tasks.
 */
export const BULL_JOB_OPTS: JobsOptions = { attempts: 4, backoff: { type: 'exponential', delay: 1000 } };

export function openBullQueue(host: string, port: number): Queue {
  return new Queue(BULL_QUEUE, { connection: { host, port }, prefix: BULL_PREFIX });
}

export function bullKey(suffix: string): string {
  return `${BULL_PREFIX}:${BULL_QUEUE}:${suffix}`;
}
