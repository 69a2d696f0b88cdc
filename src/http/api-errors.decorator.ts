import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ErrorResponse } from './error-response';

/** Names of the security schemes buildApiDocument declares (the keys of API_KEYS, see api-key-auth.ts). */
export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';

/** A controller whose routes take API_KEYS when it is set: either header will do. */
export const ApiKeyProtected = (): ClassDecorator & MethodDecorator => applyDecorators(ApiBearerAuth(BEARER_SCHEME), ApiSecurity(API_KEY_SCHEME));

/** Errors any route that reads or writes the queue may answer (see toHttpError). */
const COMMON_ERRORS: Record<number, string> = {
  401: 'API_KEYS is set and the request has no valid key (Authorization: Bearer <key> or X-API-Key)',
  429: 'RATE_LIMIT_PER_MIN is set and this client went over it; retry after Retry-After seconds',
  500: 'internal error (details only in the log)',
  503: 'the queue store (Redis) is unavailable; retry after Retry-After seconds',
};

/** The Retry-After header of a 503 (toHttpError sets it). */
export const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } },
} as const;

/** The WWW-Authenticate header of a 401 (apiKeyAuth sets it). */
const WWW_AUTHENTICATE_HEADER = {
  'WWW-Authenticate': { description: 'Bearer realm="taskqueue" (with error="invalid_token" for a wrong key)', schema: { type: 'string' } },
} as const;

/**
 * Documents the error answers of a route, each with the one error body ({@link ErrorResponse}):
 * the given statuses with what they mean on this route, plus 401 (API keys), 429 (RATE_LIMIT_PER_MIN), 500 and 503 (Redis unavailable).
 */
export function ApiErrors(errors: Record<number, string>): MethodDecorator {
  const all = { ...errors, ...COMMON_ERRORS };
  return applyDecorators(
    ...Object.entries(all).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description: `${STATUS_CODES[Number(status)] ?? 'Error'}: ${description}`,
        type: ErrorResponse,
        headers: Number(status) === 503 || Number(status) === 429 ? RETRY_AFTER_HEADER : Number(status) === 401 ? WWW_AUTHENTICATE_HEADER : undefined,
      }),
    ),
  );
}
