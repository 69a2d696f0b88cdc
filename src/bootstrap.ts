import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { AppConfig } from './config/app-config';
import { configureHttpSecurity } from './http/http-security';
import { mountApiDocs } from './http/api-docs';
import { mountDashboard } from './dashboard/dashboard-assets';
import { jsonBodyParser } from './http/json-body';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import type { NextFunction, Request, Response } from 'express';

/**
 * Nest's own body parsers are off: configureApp mounts the JSON parser with our limit, and the API
 * takes no form-encoded bodies (Nest would otherwise type-check every request for them).
 */
export const NEST_APP_OPTIONS = { bufferLogs: true, bodyParser: false } as const;

/** Settings shared by main.ts and the e2e tests, so tests exercise the app as it runs. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  // First: headers, CORS and the API key check apply to every route, before any body is read.
  configureHttpSecurity(app, config.security, app.get(Logger));
  // Our JSON parser, so that JSON syntax errors and empty bodies get a message that says so, with the
  // limits on a body's depth and number of values.
  app.use(jsonBodyParser(config.server.bodyLimitBytes));
  // HTTP metrics of the requests that got past the key check and the body parser, before any Nest
  // middleware (request log, body shape checks) and route: the place it held as Nest middleware.
  const httpMetrics = app.get(HttpMetricsMiddleware);
  app.use((req: Request, res: Response, next: NextFunction) => httpMetrics.use(req, res, next));
  app.disable('x-powered-by');
  // Task JSON changes with every state transition; a weak ETag per response would be work for nothing.
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Swagger UI at /docs, the OpenAPI document at /docs-json and /docs-yaml: only where the API is served.
  if (config.role !== 'worker') mountApiDocs(app);
  // The dashboard at /dashboard/: only where the API it calls is served.
  if (config.role !== 'worker' && config.dashboard.enabled) mountDashboard(app);
  configureHttpServer(app.getHttpServer() as Server, config.server);
}

/**
 * Slow or stuck clients must not hold sockets forever: headers within `headersTimeoutMs` (slow-loris),
 * the whole request within `requestTimeoutMs`, idle keep-alive connections closed after
 * `keepAliveTimeoutMs`. Node enforces the first two from a periodic sweep, every 30 s by default, so a
 * 10 s headers timeout could hold a socket for 40 s; the sweep runs every second here (it walks only the
 * list of connections still waiting for a request). Must run before listen(): the sweep interval is
 * read when the server starts listening.
 */
export function configureHttpServer(server: Server, limits: AppConfig['server']): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, limits.headersTimeoutMs);
}

/** `options.imports`: an application's own modules, e.g. its task types (README "Adding a task type"). */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), NEST_APP_OPTIONS);
  configureApp(app, config);
  return app;
}
