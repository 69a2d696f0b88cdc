/**
 * Our worker for the pickup section only (the drain, end-to-end and idle sections run `node main.js`
 * with APP_ROLE=worker, as users do): the real AppModule with APP_ROLE=worker (WorkerPoolService,
 * executor, recoverer, retention) in a Nest application context, configured from the environment
 * like main.ts (WORKER_COUNT, REDIS_URL, LOG_LEVEL...), plus one extra handler type `pickup` whose
 * result is the pickup latency: handler start minus the enqueue time the payload carries
 * (high-resolution ms). Loads our code from BENCH_CODE_DIR (the measured build).
 * Runs compiled, with plain node (bench/lib/build.ts). Reports `{ type: 'ready' }` over IPC once
 * started; exits when the benchmark goes away.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { join } from 'node:path';

const CODE_DIR = process.env.BENCH_CODE_DIR ?? '';
const hrNow = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  if (!CODE_DIR) throw new Error('BENCH_CODE_DIR (the directory of the compiled service) is not set');
  const { AppModule } = (await import(join(CODE_DIR, 'app.module'))) as typeof import('../../src/app.module');
  const { loadAppConfig } = (await import(join(CODE_DIR, 'config/app-config'))) as typeof import('../../src/config/app-config');
  const { TaskHandler } = (await import(join(CODE_DIR, 'task-types/task-handler'))) as typeof import('../../src/task-types/task-handler');
  const config = loadAppConfig({ ...process.env, APP_ROLE: 'worker' });

  @Injectable()
  @TaskHandler('pickup', { payload: 'string' })
  class PickupHandler {
    async handle(payload: string): Promise<string> {
      return (hrNow() - Number(payload)).toFixed(3);
    }
  }

  @Module({ imports: [AppModule.forRoot(config)], providers: [PickupHandler] })
  class BenchWorkerModule {}

  const app = await NestFactory.createApplicationContext(BenchWorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const { ProcessState } = (await import(join(CODE_DIR, 'lifecycle/process-state'))) as typeof import('../../src/lifecycle/process-state');
  app.get(ProcessState).markBooted();
  process.send?.({ type: 'ready' });
}

// The benchmark died or dropped us: do not linger.
process.on('disconnect', () => process.exit(1));
main().catch((err) => {
  process.stderr.write(`our-pickup-worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
