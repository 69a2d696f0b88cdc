import { Injectable } from '@nestjs/common';
import { TaskHandler } from './task-handler';

@Injectable()
@TaskHandler('echo', { payload: 'string' })
export class EchoHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return `echo: ${payload}`;
  }
}
