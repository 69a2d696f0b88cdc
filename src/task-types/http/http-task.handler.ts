import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../common/clock';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/app-config.module';
import { InvalidPayloadError, TaskContext, TaskHandler } from '../task-handler';
import { HttpTaskClient } from './http-client';
import { HttpTaskSpec, parseHttpPayload } from './http-payload';
import { HttpTaskResult, resultOf } from './response-mapper';

/**
 * The built-in `http` type: calls the payload's URL (README "HTTP-target tasks"). 2xx completes the
 * task with the response; 429, 5xx, network errors and timeouts are retried (after Retry-After when
 * given); any other status, a refused host or redirect fails it without retry.
 */
@Injectable()
@TaskHandler('http')
export class HttpTaskHandler implements TaskHandler<unknown, HttpTaskResult> {
  constructor(
    private readonly client: HttpTaskClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  validatePayload(payload: unknown): void {
    this.spec(payload);
  }

  async handle(payload: unknown, { taskId, attempt, signal }: TaskContext): Promise<HttpTaskResult> {
    const response = await this.client.call(this.spec(payload), { taskId, attempt }, signal);
    return resultOf(response, this.clock.now());
  }

  /** The payload is the JSON object, or the same object as JSON text. */
  private spec(payload: unknown): HttpTaskSpec {
    let value = payload;
    if (typeof payload === 'string') {
      try {
        value = JSON.parse(payload) as unknown;
      } catch {
        throw new InvalidPayloadError('must be a JSON object like {"url": "https://example.com/hook"}');
      }
    }
    return parseHttpPayload(value, this.client.policy, this.config.httpTasks.timeoutMs);
  }
}
