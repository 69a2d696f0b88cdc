import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DuplicateTaskIdError, QueueServerError, QueueUnavailableError, TaskNotFoundError } from '../queue/queue-errors';
import { ErrorResponse } from './error-response';
import { ScheduleLimitError, ScheduleNotFoundError } from '../schedules/schedule-errors';
import {
  IdempotencyConflictError,
  IdempotencyGoneError,
  InvalidCursorError,
  InvalidTaskError,
  PayloadTooLargeError,
  TaskNotFailedError,
} from '../tasks/task-errors';

interface HttpError {
  status: number;
  message: string;
  /** A body to send as it is (Terminus health reports). */
  body?: object;
  headers?: Record<string, string>;
}

/**
 * Seconds a client should wait before retrying a 503. Short: most unavailability (a failover, a
 * restart, a busy script) lasts seconds, and clients back off on their own when it lasts longer.
 */
const RETRY_AFTER_S = 1;

/** Errors raised by Express' body parser before Nest sees the request. */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

const isBodyParserError = (e: unknown): e is BodyParserError =>
  typeof e === 'object' && e !== null && typeof (e as BodyParserError).type === 'string' && typeof (e as BodyParserError).status === 'number';

/**
 * A client error in the http-errors convention (4xx `status`, `expose: true`) without a body-parser
 * `type`: body-parser passes stream errors through like that, e.g. a body whose Content-Encoding
 * (gzip, deflate, br) does not decompress ("incorrect header check").
 */
const isExposedClientError = (e: unknown): e is { status: number; message: string } => {
  const x = e as { status?: unknown; expose?: unknown; message?: unknown } | null;
  return (
    typeof x === 'object' && x !== null && typeof x.status === 'number' && x.status >= 400 && x.status < 500 &&
    x.expose === true && typeof x.message === 'string'
  );
};

/** The one place that turns errors into HTTP responses: always JSON `{ statusCode, error, message }`. */
export function toHttpError(exception: unknown): HttpError {
  if (exception instanceof TaskNotFoundError) return { status: 404, message: 'task not found' };
  if (exception instanceof ScheduleNotFoundError) return { status: 404, message: 'schedule not found' };
  if (exception instanceof ScheduleLimitError) return { status: 409, message: exception.message };
  if (exception instanceof InvalidTaskError || exception instanceof InvalidCursorError) {
    return { status: 400, message: exception.message };
  }
  if (exception instanceof PayloadTooLargeError) return { status: 413, message: exception.message };
  if (exception instanceof IdempotencyConflictError) return { status: 422, message: exception.message };
  if (exception instanceof IdempotencyGoneError) return { status: 410, message: exception.message };
  if (exception instanceof QueueUnavailableError) {
    return { status: 503, message: 'queue store (Redis) is unavailable; try again', headers: { 'Retry-After': String(RETRY_AFTER_S) } };
  }
  // Redis' reply may name keys or data: it goes to the log (HttpErrorFilter), never to the client.
  if (exception instanceof QueueServerError) return { status: 500, message: 'internal error' };
  if (exception instanceof DuplicateTaskIdError || exception instanceof TaskNotFailedError) return { status: 409, message: exception.message };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null && !('message' in response)) {
      return { status, message: exception.message, body: response };
    }
    const raw = typeof response === 'string' ? response : (response as { message: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : String(raw);
    // Express cannot percent-decode the path parameter (e.g. /tasks/%FF): no task has such an id.
    if (status === 400 && message.startsWith('Failed to decode param')) return { status: 404, message: 'task not found' };
    return { status, message };
  }
  if (isBodyParserError(exception)) {
    switch (exception.type) {
      case 'entity.parse.failed':
        return { status: 400, message: `body is not valid JSON: ${exception.message}` };
      case 'entity.too.large':
        return { status: 413, message: 'body is larger than the limit (BODY_LIMIT)' };
      default:
        return { status: exception.status >= 400 && exception.status < 500 ? exception.status : 400, message: exception.message };
    }
  }
  if (isExposedClientError(exception)) {
    return { status: exception.status, message: `body could not be read: ${exception.message}` };
  }
  return { status: 500, message: 'internal error' };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@InjectPinoLogger('HttpErrorFilter') private readonly logger: PinoLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = toHttpError(exception);
    // Unexpected errors only: a 503 for a Redis outage is reported once by RedisConnections.
    if (error.status >= 500 && error.status !== 503 && !error.body) {
      const err = exception instanceof Error ? { message: exception.message, stack: exception.stack } : { message: String(exception) };
      const redis = exception instanceof QueueServerError ? { redis_reply: exception.reply, redis_command: exception.command } : {};
      this.logger.error({ err, status: error.status, ...redis }, 'request failed');
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    res
      .status(error.status)
      .json(error.body ?? ({ statusCode: error.status, error: STATUS_CODES[error.status] ?? 'Error', message: error.message } satisfies ErrorResponse));
  }
}
