import type { NestExpressApplication } from '@nestjs/platform-express';
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
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
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
