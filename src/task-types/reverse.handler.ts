import { Injectable } from '@nestjs/common';
import { TaskHandler } from './task-handler';

/** Reverses by Unicode code point, so characters outside the BMP (emoji) stay intact. */
@Injectable()
@TaskHandler('reverse', { payload: 'string' })
export class ReverseHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return Array.from(payload).reverse().join('');
  }
}
