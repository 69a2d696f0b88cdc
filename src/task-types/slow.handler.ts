import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { sleep } from '../common/sleep';
import { TaskAbortedError, TaskContext, TaskHandler } from './task-handler';

/** Waits SLOW_TASK_MS (stopping early when aborted), then reports how long it waited. */
@Injectable()
@TaskHandler('slow', { payload: 'string' })
export class SlowHandler implements TaskHandler {
  private readonly durationMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.durationMs = config.handlers.slowTaskMs;
  }

  async handle(_payload: string, { signal }: TaskContext): Promise<string> {
    await sleep(this.durationMs, signal);
    if (signal.aborted) throw new TaskAbortedError();
    return `completed after ${Number((this.durationMs / 1000).toFixed(3))} seconds`;
  }
}
