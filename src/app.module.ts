import { DynamicModule, Module, ModuleMetadata, Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { AppConfig } from './config/app-config';
import { LogLevel } from './config/env.schema';
import { AppConfigModule } from './config/app-config.module';
import { CommonModule } from './common/common.module';
import { HealthModule } from './health/health.module';
import { HttpErrorFilter } from './http/http-error.filter';
import { createValidationPipe } from './http/validation.pipe';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { OpsModule } from './ops/ops.module';
import { RateLimitModule } from './http/rate-limit.module';
import { QueueModule } from './queue/queue.module';
import { SchedulesModule } from './schedules/schedules.module';
import { QueuesModule } from './queues/queues.module';
import { TaskTypesModule } from './task-types/task-types.module';
import { TasksModule } from './tasks/tasks.module';
import { WorkerModule } from './worker/worker.module';

const REQUEST_LOG_LEVELS: LogLevel[] = ['info', 'debug', 'trace'];

export interface AppModuleOptions {
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: DestinationStream;
  /** An application's own modules, e.g. those registering task types with TaskHandlersModule.forFeature. */
  imports?: ModuleMetadata['imports'];
}

/**
 * The same build runs as API, worker or both: APP_ROLE decides which feature modules are imported.
 * Every role serves /health.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    const features: (Type | DynamicModule)[] = [];
    if (config.role !== 'worker') features.push(TasksModule, OpsModule, QueuesModule);
    if (config.role !== 'worker' && config.rateLimit.perMinute > 0) features.push(RateLimitModule.forRoot(config));
    if (config.role !== 'api') features.push(WorkerModule);
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot({
          // Request lines are written at info level. Above it, pino-http is not mounted at all (no route):
          // it would cost a child logger and several listeners per request to write nothing (5xx are
          // still logged by HttpErrorFilter); mounted with `exclude`, Nest would still test every
          // request against the exclusion.
          ...(REQUEST_LOG_LEVELS.includes(config.log.level) ? {} : { forRoutes: [] }),
          pinoHttp: withStream(options.logStream, {
            level: config.log.level,
            // Probes and scrapes are not logged: they would drown the request log.
            autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health') === true || req.url === '/metrics' },
            // 503 (Redis unavailable) is a warning per request; the outage itself is logged once.
            customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
              res.statusCode >= 500 && res.statusCode !== 503 ? 'error' : err || res.statusCode >= 400 ? 'warn' : 'info',
            // The req serializer keeps no header at all; redaction guards the credentials if that changes.
            redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          }),
        }),
        CommonModule,
        LifecycleModule,
        QueueModule,
        HealthModule,
        MetricsModule,
        TaskTypesModule.forRoot(config),
        ...features,
        SchedulesModule.forRoot(config),
        ...(options.imports ?? []),
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}

/** pino-http's options, with a destination stream when one is given (both loggers of nestjs-pino use it). */
function withStream<T extends object>(stream: DestinationStream | undefined, options: T): T | [T, DestinationStream] {
  return stream ? [options, stream] : options;
}
