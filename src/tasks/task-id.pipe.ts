import { Injectable, PipeTransform } from '@nestjs/common';
import { TaskNotFoundError } from '../queue/queue-errors';
import { TASK_ID_PATTERN, UUID_ID_PATTERN } from '../queue/task-id';

/**
 * A path id that is not a task id (22 characters of base64url, a UUID for ids issued before, either
 * after `<queue>.`; see task-id.ts) cannot name a task: 404, the same as an unknown one. A UUID is
 * compared in lower case (UUIDs and queue names are); a base64url id is case-sensitive.
 */
@Injectable()
export class TaskIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = UUID_ID_PATTERN.test(value) ? value.toLowerCase() : value;
    if (!TASK_ID_PATTERN.test(id)) throw new TaskNotFoundError(value);
    return id;
  }
}
