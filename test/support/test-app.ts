import { INestApplication, ModuleMetadata, Provider } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { DestinationStream } from 'pino';
import { AppModule } from '../../src/app.module';
import { configureApp, NEST_APP_OPTIONS } from '../../src/bootstrap';
import { AppConfig, loadAppConfig } from '../../src/config/app-config';
import { ProcessState } from '../../src/lifecycle/process-state';
import { QueueRepository } from '../../src/queue/queue.repository';
import { TEST_REDIS_URL } from './redis';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  queue: QueueRepository;
  http: ReturnType<INestApplication['getHttpServer']>;
  close(): Promise<void>;
}

/**
 * Config as main.ts builds it, from an environment; tests pass only what they change. Readiness does
 * not wait before the listener closes (SHUTDOWN_READY_DELAY_MS=0) unless a test sets it.
 */
export function testConfig(env: Record<string, string>): AppConfig {
  return loadAppConfig({ REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SHUTDOWN_READY_DELAY_MS: '0', ...env });
}

export interface TestAppOptions {
  /** Extra providers of the testing module, e.g. a test-only @TaskHandler class (the registry finds it). */
  providers?: Provider[];
  /** An application's own modules, as main({ imports }) takes them (e.g. TaskHandlersModule.forFeature). */
  imports?: ModuleMetadata['imports'];
  /** Where the app's log lines go instead of stdout, e.g. to read them (set LOG_LEVEL too: tests default to silent). */
  logStream?: DestinationStream;
}

/** The whole application, as main.ts builds it, on the given environment. */
export async function createTestApp(env: Record<string, string>, options: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig(env);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config, { logStream: options.logStream, imports: options.imports })], providers: options.providers ?? [] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(NEST_APP_OPTIONS);
  configureApp(app, config);
  await app.init();
  // As main.ts does once listening: workers start fetching.
  app.get(ProcessState).markBooted();
  let closed = false;
  return {
    app,
    config,
    queue: app.get(QueueRepository),
    http: app.getHttpServer(),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
