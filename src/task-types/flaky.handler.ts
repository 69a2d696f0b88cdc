import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { RANDOM, RandomSource } from '../common/random';
import { TaskContext, TaskHandler } from './task-handler';

/** Fails with probability FLAKY_FAILURE_RATE (a retryable error): for demonstrating retries. */
@Injectable()
@TaskHandler('flaky', { payload: 'string' })
export class FlakyHandler implements TaskHandler {
  private readonly failureRate: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(RANDOM) private readonly random: RandomSource,
  ) {
    this.failureRate = config.handlers.flakyFailureRate;
  }

  async handle(payload: string, { attempt }: TaskContext): Promise<string> {
    if (this.random.next() < this.failureRate) {
      throw new Error(`flaky task failed on attempt ${attempt} (simulated failure)`);
    }
    return `flaky: succeeded on attempt ${attempt}: ${payload}`;
  }
}
