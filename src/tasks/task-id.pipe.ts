import { Injectable, PipeTransform } from '@nestjs/common';
import { TaskNotFoundError } from '../queue/queue-errors';
import { TASK_ID_PATTERN } from '../queue/task-id';

/**
 * A path id that is not a task id (a UUID, or `<queue>.<uuid>`; see task-id.ts) cannot name a task:
 * 404, the same as an unknown one. Compared in lower case (UUIDs and queue names are).
 */
@Injectable()
export class TaskIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = value.toLowerCase();
    if (!TASK_ID_PATTERN.test(id)) throw new TaskNotFoundError(value);
    return id;
  }
}
