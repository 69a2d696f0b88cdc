import { Injectable } from '@nestjs/common';
import { TaskMetrics } from '../metrics/task-metrics';
import { QueueAdminRepository } from '../queue/queue-admin.repository';
import { TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { TaskRecord } from '../queue/task.model';
import { DeleteTasksQuery, RetryFailedQuery } from './dto/bulk-action.query';
import { TaskNotFailedError } from './task-errors';

/** An operator's actions on tasks: retry one failed task, retry every failed one, delete finished ones. */
@Injectable()
export class TaskAdminService {
  constructor(
    private readonly admin: QueueAdminRepository,
    private readonly queue: QueueRepository,
    private readonly metrics: TaskMetrics,
  ) {}

  /** A failed task goes back to pending with a fresh retry budget; resolves to the task as it is now. */
  async retry(id: string): Promise<TaskRecord> {
    const result = await this.admin.retryTask(id);
    if (!result.retried) throw new TaskNotFailedError(result.status);
    const task = await this.queue.get(id);
    // Deleted in the instant between the two calls.
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  /** Every failed task (of one queue and/or type) back to pending; one queue after the other, in chunks. */
  async retryFailed(query: RetryFailedQuery): Promise<number> {
    let retried = 0;
    for (const queue of await this.queuesOf(query.queue)) retried += await this.admin.retryFailed(queue, query.type);
    return retried;
  }

  /** Deletes finished tasks of one status (older than older_than_s, of one queue), in chunks. */
  async deleteFinished(query: DeleteTasksQuery): Promise<number> {
    const olderThanMs = query.older_than_s === undefined ? undefined : query.older_than_s * 1000;
    let deleted = 0;
    for (const queue of await this.queuesOf(query.queue)) {
      const count = await this.admin.deleteFinished(queue, query.status, olderThanMs);
      // Counted per queue as each queue's part is done, so an error in a later queue loses no count.
      if (count > 0) this.metrics.deleted(queue, count);
      deleted += count;
    }
    return deleted;
  }

  private async queuesOf(queue: string | undefined): Promise<string[]> {
    return queue === undefined ? this.queue.queueNames() : [queue];
  }
}
