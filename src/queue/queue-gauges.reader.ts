import { Injectable } from '@nestjs/common';
import { QueueRepository } from './queue.repository';
import { TASK_STATUSES, TaskStatus } from './task.model';

/** What GET /queues and a metrics scrape show of one queue, read from Redis in one script call. */
export interface QueueGauges {
  queue: string;
  /** Tasks of each status (ZCARD of s:<status>; of `active` for processing; of the queue zsets of every level for pending, scheduled tasks included). */
  byStatus: Record<TaskStatus, number>;
  /** Pending tasks whose run time is still ahead (delayed, or waiting for a retry), by Redis' clock. */
  scheduled: number;
  /** How long the oldest due task of any level has been due (ms), by Redis' clock; 0 when none is due. */
  oldestDueAgeMs: number;
  /** Workers lease nothing from it (POST /queues/{name}/pause). */
  paused: boolean;
}

/**
 * Read-only gauges of every registered queue (QueueRepository.queueNames): one queue-overview.lua call
 * per queue (its keys share the queue's hash tag, one slot), all sent at once.
 */
@Injectable()
export class QueueGaugesReader {
  constructor(private readonly queue: QueueRepository) {}

  async read(): Promise<QueueGauges[]> {
    const names = await this.queue.queueNames();
    return Promise.all(names.map((name) => this.readQueue(name)));
  }

  /** One queue, known or not (an unknown one reads as empty). */
  async readQueue(name: string): Promise<QueueGauges> {
    const reply = await this.queue.overview(name, TASK_STATUSES);
    const byStatus = {} as Record<TaskStatus, number>;
    TASK_STATUSES.forEach((status, i) => (byStatus[status] = Number(reply[3 + i])));
    return { queue: name, byStatus, scheduled: Number(reply[1]), oldestDueAgeMs: Number(reply[2]), paused: reply[0] === 1 };
  }
}
