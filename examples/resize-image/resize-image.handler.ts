import { Injectable } from '@nestjs/common';
import { NonRetryableError, TaskContext, TaskHandler } from '../../src/task-types/task-handler';
import { ImageSizer } from './image-sizer.service';
import { ResizeImagePayload } from './resize-image.payload';

/** The result of a `resize-image` task: any JSON value may be a result; this one is an object. */
export interface ResizeImageResult {
  source: string;
  width: number;
  height: number;
  attempt: number;
}

/** The size of the images this example pretends to fetch (a real handler would read it from the image). */
export const SOURCE_SIZE = { width: 4000, height: 3000 };

/**
 * A task type written as a Nest provider. The options are the type's own defaults: a request that leaves
 * timeout_ms, max_retry or backoff out gets these (shown in the task JSON); `concurrency` caps how many
 * resize-image tasks one process runs at once, whatever WORKER_COUNT is.
 */
@Injectable()
@TaskHandler('resize-image', {
  timeoutMs: 30_000,
  maxRetry: 5,
  backoff: { type: 'exponential', delayMs: 2000, maxDelayMs: 60_000, jitter: true },
  concurrency: 2,
  payloadDto: ResizeImagePayload,
})
export class ResizeImageHandler implements TaskHandler<ResizeImagePayload, ResizeImageResult> {
  constructor(private readonly sizer: ImageSizer) {}

  async handle(payload: ResizeImagePayload, { attempt, signal }: TaskContext): Promise<ResizeImageResult> {
    // `payload` is an instance of ResizeImagePayload, already validated.
    if (payload.url.endsWith('.svg')) throw new NonRetryableError('vector images are not resized'); // fails without retry
    signal.throwIfAborted();
    const { width, height } = this.sizer.fit(SOURCE_SIZE, { width: payload.width, height: payload.height }, payload.fit);
    return { source: payload.url, width, height, attempt };
  }
}
