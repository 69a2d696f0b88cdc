import { Injectable, PipeTransform } from '@nestjs/common';
import { TaskNotFoundError } from '../queue/queue-errors';

/** The textual UUID form (the service issues v4 ids; any well-formed UUID is looked up). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A path id that is not a UUID cannot name a task: 404, the same as an unknown one. */
@Injectable()
export class TaskIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = value.toLowerCase();
    if (!UUID_PATTERN.test(id)) throw new TaskNotFoundError(value);
    return id;
  }
}
