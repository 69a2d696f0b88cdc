import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import type { AppModuleOptions } from './app.module';
import { createApp } from './bootstrap';
import { ConfigValidationError, loadAppConfig } from './config/app-config';
import { ProcessState } from './lifecycle/process-state';
import { RedisVersionError } from './queue/redis-server-check';

/**
 * Runs the service. `options.imports`: an application's own modules (its task types); a deployment with
 * its own handlers calls this from its entry file (examples/resize-image/main.ts).
 */
export async function main(options: AppModuleOptions = {}): Promise<void> {
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

  let app;
  try {
    app = await createApp(config, options);
  } catch (err) {
    // Redis answers but is too old for the scripts: the one boot failure Redis itself can cause.
    if (err instanceof RedisVersionError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // SIGTERM/SIGINT run every shutdown phase, then exit with code 0 (Nest re-raises the signal otherwise).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const logger = app.get(Logger);
  // Server timeouts (HTTP_*_TIMEOUT_MS) are set in configureApp, before listening.
  try {
    await app.listen(config.server.port);
  } catch (err) {
    // Nothing was leased yet (workers start below), so closing has nothing to hand back but is kept
    // bounded and clean: the pool, loops and Redis connections stop like on SIGTERM.
    logger.error({ msg: 'cannot listen; exiting', port: config.server.port, err: err instanceof Error ? err.message : String(err) });
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  // Workers start fetching only now that the app is fully up.
  app.get(ProcessState).markBooted();

  // nestjs-pino's Logger reads a trailing string as the context, so the message goes in `msg`.
  logger.log({ msg: 'taskqueue listening', port: config.server.port, role: config.role, queue_prefix: config.queue.prefix });
}

if (require.main === module) void main();
