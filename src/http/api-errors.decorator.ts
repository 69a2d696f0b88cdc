import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ErrorResponse } from './error-response';

/** Errors any route that reads or writes the queue may answer (see toHttpError). */
const COMMON_ERRORS: Record<number, string> = {
  500: 'internal error (details only in the log)',
  503: 'the queue store (Redis) is unavailable; retry after Retry-After seconds',
};

/** The Retry-After header of a 503 (toHttpError sets it). */
export const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } },
} as const;

/**
 * Documents the error answers of a route, each with the one error body ({@link ErrorResponse}):
 * the given statuses with what they mean on this route, plus 500 and 503 (Redis unavailable).
 */
export function ApiErrors(errors: Record<number, string>): MethodDecorator {
  const all = { ...errors, ...COMMON_ERRORS };
  return applyDecorators(
    ...Object.entries(all).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description: `${STATUS_CODES[Number(status)] ?? 'Error'}: ${description}`,
        type: ErrorResponse,
        headers: Number(status) === 503 ? RETRY_AFTER_HEADER : undefined,
      }),
    ),
  );
}
