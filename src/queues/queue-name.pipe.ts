import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { isQueueName, QUEUE_NAME_MESSAGE } from '../queue/task-id';

/** A queue name in the path: 400 naming the parameter when it cannot be a queue name. */
@Injectable()
export class QueueNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isQueueName(value)) throw new BadRequestException(`name ${QUEUE_NAME_MESSAGE}`);
    return value;
  }
}
