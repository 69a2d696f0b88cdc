import { Injectable, PipeTransform } from '@nestjs/common';
import { TaskNotFoundError } from '../queue/queue-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A path id that is not a UUID cannot name a task: 404, the same as an unknown one. */
@Injectable()
export class TaskIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = value.toLowerCase();
    if (!UUID.test(id)) throw new TaskNotFoundError(value);
    return id;
  }
}
