import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'nestjs-pino';
import type { SecurityConfig } from '../config/security-config';
import { accessRules, apiKeyAuth } from './api-key-auth';

/** Response headers a browser client may read across origins (beyond the CORS-safelisted ones). */
const EXPOSED_HEADERS = ['Link', 'Location', 'Retry-After', 'X-Task-Wait', 'Idempotent-Replayed', 'WWW-Authenticate'];

/**
 * Security middleware, mounted before everything else in configureApp (so it also covers routes Nest
 * does not own): helmet's headers, then CORS (only when CORS_ORIGINS is set; it answers preflights, which
 * carry no key, before the key check), then the API key check.
 */
export function configureHttpSecurity(app: NestExpressApplication, security: SecurityConfig, logger: Logger): void {
  // Without upgrade-insecure-requests: served over plain HTTP (inside a cluster, behind a TLS proxy),
  // it makes browsers fetch /docs' scripts over HTTPS from a port that speaks HTTP (docs/operations.md).
  app.use(constantHeaders(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })));
  if (security.corsOrigins.length > 0) {
    app.enableCors({ origin: security.corsOrigins, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  }
  // Without any key configured every path is open: nothing to check per request.
  if (security.apiKeys.length === 0 && security.metricsApiKey === undefined) return;
  // pino-http is Nest middleware, mounted after this one, so it never sees a refused request: log it here
  // (method and path only; no header, no key).
  app.use(
    apiKeyAuth(accessRules(security), (req, failure) =>
      logger.warn({ msg: 'request refused: API key ' + failure, method: req.method, path: req.path, status: 401 }),
    ),
  );
}

/**
 * `middleware` (helmet's) as one loop over the headers it sets, when those are the same for every
 * request: it is run once against a recording response, and its setHeader and removeHeader calls are
 * replayed on each request (helmet runs a dozen middleware functions, chained by a closure, to set
 * constant strings). A middleware that reads the request or response, fails, or does not call next at
 * once is used as it is.
 */
export function constantHeaders(middleware: RequestHandler): RequestHandler {
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  let plain = true;
  let nextCalls = 0;
  const recorder = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (key === 'setHeader') return (name: unknown, value: unknown) => (typeof name === 'string' && typeof value === 'string' ? set.push([name, value]) : (plain = false));
        if (key === 'removeHeader') return (name: unknown) => (typeof name === 'string' ? removed.push(name) : (plain = false));
        plain = false;
        return undefined;
      },
    },
  );
  const request = new Proxy({}, { get: () => ((plain = false), undefined) });
  try {
    middleware(request as Request, recorder as Response, (err?: unknown) => {
      nextCalls += 1;
      if (err !== undefined) plain = false;
    });
  } catch {
    plain = false;
  }
  if (!plain || nextCalls !== 1) return middleware;
  return (_req: Request, res: Response, next: NextFunction): void => {
    for (let i = 0; i < set.length; i += 1) res.setHeader(set[i][0], set[i][1]);
    for (let i = 0; i < removed.length; i += 1) res.removeHeader(removed[i]);
    next();
  };
}
