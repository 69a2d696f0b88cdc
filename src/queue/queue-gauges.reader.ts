import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { QueueKeys } from './queue-keys';
import { RedisConnections } from './redis-connections';
import { TASK_PRIORITIES } from './task-options';
import { TASK_STATUSES, TaskStatus } from './task.model';

/** What a metrics scrape shows of one queue, read from Redis in one round trip. */
export interface QueueGauges {
  queue: string;
  /** ZCARD of each status index (s:<status>), every priority level included. */
  byStatus: Record<TaskStatus, number>;
  /** How long the oldest due task of any level has been due (ms), by Redis' clock; 0 when none is due. */
  oldestDueAgeMs: number;
}

/**
 * Read-only gauges for GET /metrics: one pipeline of ZCARDs of the status indexes, the head of each
 * priority level's queue zset and Redis' TIME. All keys share the queue's hash tag (one slot).
 */
@Injectable()
export class QueueGaugesReader {
  private readonly keys: QueueKeys;

  constructor(
    private readonly connections: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.keys = new QueueKeys(config.queue.prefix);
  }

  async read(): Promise<QueueGauges[]> {
    const k = this.keys;
    const pipeline = this.connections.commands.pipeline();
    for (const status of TASK_STATUSES) pipeline.zcard(k.byStatus(status));
    for (const priority of TASK_PRIORITIES) pipeline.zrange(k.queueFor(priority), 0, 0, 'WITHSCORES');
    pipeline.time();
    const replies = (await pipeline.exec()) ?? [];
    const values = replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    const byStatus = {} as Record<TaskStatus, number>;
    TASK_STATUSES.forEach((status, i) => (byStatus[status] = Number(values[i])));
    const [seconds, micros] = values[values.length - 1] as [string, string];
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    let oldestDue = Infinity;
    for (let i = 0; i < TASK_PRIORITIES.length; i += 1) {
      const head = values[TASK_STATUSES.length + i] as string[];
      if (head.length === 2) oldestDue = Math.min(oldestDue, Number(head[1]));
    }
    return [{ queue: k.queueName, byStatus, oldestDueAgeMs: oldestDue <= now ? now - oldestDue : 0 }];
  }
}
