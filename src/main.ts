import 'reflect-metadata';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { createApp } from './bootstrap';
import { ConfigValidationError, loadAppConfig } from './config/app-config';
import { QueueRepository } from './queue/queue.repository';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAppConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const app = await createApp(config);
  // SIGTERM/SIGINT run every shutdown phase, then exit with code 0 (Nest re-raises the signal otherwise).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(config.server.port);

  // Slow or stuck clients must not hold sockets forever.
  const server = app.getHttpServer() as Server;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  const logger = app.get(Logger);
  logger.log({ port: config.server.port, role: config.role, queue_prefix: config.queue.prefix }, 'taskqueue listening');
  const policy = await app.get(QueueRepository).evictionPolicy();
  if (policy && policy !== 'noeviction') {
    logger.warn(
      { maxmemory_policy: policy },
      'Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict accepted tasks',
    );
  }
}

void main();
