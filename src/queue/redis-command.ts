import { toQueueError } from './redis-error-classifier';
import { QueueUnavailableError } from './queue-errors';
import type { RedisConnections } from './redis-connections';

/**
 * Runs one command of a class that talks to Redis beside QueueRepository (worker registry, admin
 * actions): a failure becomes QueueUnavailableError (503, and part of the outage report) or
 * QueueServerError (500), exactly as QueueRepository's own calls do.
 */
export async function runCommand<T>(redis: RedisConnections, command: () => Promise<T>): Promise<T> {
  try {
    const result = await command();
    redis.reportSuccess();
    return result;
  } catch (err) {
    const error = toQueueError(err);
    if (error instanceof QueueUnavailableError) redis.reportFailure(err);
    throw error;
  }
}
