import { Injectable } from '@nestjs/common';
import { TaskHandler, TaskType } from './task-handler';

@Injectable()
@TaskType('echo')
export class EchoHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return `echo: ${payload}`;
  }
}
