import { UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecurityConfig } from '../config/security-config';

/**
 * A set of accepted keys, kept only as SHA-256 digests. A presented key is hashed too and compared
 * with every digest by timingSafeEqual, without stopping at the first match: equal-length digests make
 * the comparison constant-time whatever the key's length, and the time does not tell which key matched.
 */
export class ApiKeySet {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(sha256);
  }

  matches(candidate: string): boolean {
    const digest = sha256(candidate);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(digest, known) || found;
    return found;
  }
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Which keys a path needs; null: open. Rules go by path so they also cover routes Nest does not own. */
export interface AccessRules {
  keysFor(path: string): ApiKeySet | null;
}

/**
 * /health* is always open (probes carry no key); so is /dashboard* (the dashboard's page, scripts and
 * styles hold no data: the page asks for a key and sends it on each API request it makes, which is
 * checked here like any other); /metrics takes METRICS_API_KEY when that is set; everything else (the
 * API, /docs*, /metrics without METRICS_API_KEY) takes API_KEYS when that is set.
 * Express matches routes case-insensitively and ignores a trailing slash, so the rules do the same:
 * /METRICS/ must not slip past the metrics rule.
 */
export function accessRules(security: SecurityConfig): AccessRules {
  const api = security.apiKeys.length > 0 ? new ApiKeySet(security.apiKeys) : null;
  const metrics = security.metricsApiKey !== undefined ? new ApiKeySet([security.metricsApiKey]) : null;
  return {
    keysFor(path: string): ApiKeySet | null {
      const p = path.toLowerCase().replace(/\/+$/, '');
      if (p === '/health' || p.startsWith('/health/')) return null;
      if (p === '/dashboard' || p.startsWith('/dashboard/')) return null;
      if (p === '/metrics' && metrics) return metrics;
      return api;
    },
  };
}

/** The keys a request presents: `Authorization: Bearer <key>` (scheme case-insensitive) and `X-API-Key`. */
export function presentedKeys(req: Request): string[] {
  const keys: string[] = [];
  const bearer = /^bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
  if (bearer) keys.push(bearer[1]);
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') keys.push(header);
  return keys;
}

export type AuthFailure = 'missing' | 'wrong';

/**
 * Express middleware, mounted first in configureApp: it runs before the body parser (an unauthorized
 * body is never parsed) and for every route, including those Nest does not own (Swagger UI's static
 * files, anything mounted with app.use). A refusal goes to the error filter as a 401 with
 * `WWW-Authenticate: Bearer`; `onDenied` reports it (the key itself is never passed on).
 */
export function apiKeyAuth(rules: AccessRules, onDenied: (req: Request, failure: AuthFailure) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const keys = rules.keysFor(req.path);
    if (!keys) return next();
    const presented = presentedKeys(req);
    if (presented.some((key) => keys.matches(key))) return next();
    const failure: AuthFailure = presented.length === 0 ? 'missing' : 'wrong';
    onDenied(req, failure);
    res.setHeader('WWW-Authenticate', failure === 'missing' ? 'Bearer realm="taskqueue"' : 'Bearer realm="taskqueue", error="invalid_token"');
    next(new UnauthorizedException(failure === 'missing' ? 'an API key is required (Authorization: Bearer <key> or X-API-Key)' : 'the API key is not valid'));
  };
}
