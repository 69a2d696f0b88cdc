import { BadRequestException } from '@nestjs/common';

export interface TaskBody {
  type: string;
  payload: string;
  max_retry: number;
}

/**
 * Light validation of a POST /tasks body for the reference app: the same fields and ranges as ours,
 * checked by hand (the reference is a typical minimal app, not a copy of our validation).
 */
export function parseTaskBody(body: unknown): TaskBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.type !== 'string' || b.type.length === 0 || b.type.length > 64) throw new BadRequestException('type must be a non-empty string');
  if (b.payload !== undefined && typeof b.payload !== 'string') throw new BadRequestException('payload must be a string');
  const maxRetry = b.max_retry ?? 3;
  if (typeof maxRetry !== 'number' || !Number.isInteger(maxRetry) || maxRetry < 0 || maxRetry > 25) {
    throw new BadRequestException('max_retry must be an integer between 0 and 25');
  }
  return { type: b.type, payload: (b.payload as string | undefined) ?? '', max_retry: maxRetry };
}

/** The response shape of our POST /tasks, for a job that was just queued. */
export function taskResponse(id: string | undefined, body: TaskBody, createdMs: number) {
  const created = new Date(createdMs).toISOString();
  return {
    id,
    type: body.type,
    payload: body.payload,
    status: 'pending',
    retries: 0,
    max_retry: body.max_retry,
    attempts: 0,
    created_at: created,
    updated_at: created,
  };
}
