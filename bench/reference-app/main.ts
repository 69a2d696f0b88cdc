/**
 * Reference apps for the HTTP sections: `bullmq` (NestJS + @nestjs/bullmq, POST /tasks -> queue.add),
 * `constant` (NestJS returning a constant: the framework's ceiling) or `roundtrip` (NestJS making one
 * Redis round trip per POST /tasks, an empty script, and storing nothing: the ceiling of any queue on
 * NestJS and Redis; bench/http-ceiling.ts). All three are plain NestJS 11 on
 * Express with its default JSON body parser and no request logging. The benchmark runs it compiled,
 * with plain node (bench/lib/build.ts):
 *
 *   BENCH_REDIS_PORT=6390 PORT=3001 BULL_PREFIX=bull node bench/.build/<pid>/js/bench/reference-app/main.js bullmq
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';

async function main(): Promise<void> {
  const kind = process.argv[2];
  const module =
    kind === 'bullmq'
      ? (await import('./bullmq-app.module')).BullmqAppModule
      : kind === 'constant'
        ? (await import('./constant-app.module')).ConstantAppModule
        : kind === 'roundtrip'
          ? (await import('./roundtrip-app.module')).RoundTripAppModule
          : undefined;
  if (!module) throw new Error(`usage: main.ts bullmq|constant|roundtrip (got ${kind})`);
  const app = await NestFactory.create<NestExpressApplication>(module, { logger: ['error', 'warn'] });
  app.disable('x-powered-by');
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  process.send?.({ type: 'ready' });
}

process.on('disconnect', () => process.exit(1));
main().catch((err) => {
  process.stderr.write(`reference app failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
