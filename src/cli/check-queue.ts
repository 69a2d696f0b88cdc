import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ConfigValidationError, loadAppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/app-config.module';
import { QueueIntegrityChecker } from '../queue/queue-integrity.checker';
import { QueueModule } from '../queue/queue.module';

/**
 * `npm run check-queue` (or `node dist/cli/check-queue.js`): scans the queue named by the usual
 * environment (REDIS_*, QUEUE_PREFIX) and prints a JSON report. Exit code 1 when any invariant is
 * broken, 2 when the check could not run.
 */
async function main(): Promise<number> {
  const config = loadAppConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });

  @Module({ imports: [AppConfigModule.forRoot(config), LoggerModule.forRoot({ pinoHttp: { level: config.log.level } }), QueueModule.withIntegrityChecker()] })
  class CheckQueueModule {}

  const app = await NestFactory.createApplicationContext(CheckQueueModule, { logger: false });
  try {
    const report = await app.get(QueueIntegrityChecker).check();
    process.stdout.write(`${JSON.stringify({ queue_prefix: config.queue.prefix, ...report }, null, 2)}\n`);
    return report.violations.length === 0 ? 0 : 1;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigValidationError ? err.message : `check-queue failed: ${String(err)}`}\n`);
    process.exit(2);
  },
);
