import { BadRequestException, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { json, NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';

/** Settings shared by main.ts and the e2e tests, so tests exercise the app as it runs. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  // Registered by us (Nest then skips its own) so that JSON syntax errors get a message that says so.
  app.use(json({ limit: config.server.bodyLimitBytes }));
  app.use(explainJsonSyntaxErrors);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
}

export async function createApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true });
  configureApp(app, config);
  return app;
}

function explainJsonSyntaxErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const parseFailed = (err as { type?: string } | undefined)?.type === 'entity.parse.failed';
  next(parseFailed ? new BadRequestException(`body is not valid JSON: ${(err as Error).message}`) : err);
}
