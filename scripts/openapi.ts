/**
 * `npm run openapi [-- <file>]`: writes the OpenAPI 3 document that /docs-json serves (default
 * `openapi.json`) for client generators. Builds the API role's module graph without listening and
 * without starting anything (no init hooks run); Redis need not be reachable.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import { AppModule } from '../src/app.module';
import { loadAppConfig } from '../src/config/app-config';
import { buildApiDocument } from '../src/http/api-docs';

async function main(): Promise<void> {
  const file = process.argv[2] ?? 'openapi.json';
  // Only the role matters to the document; the rest are defaults.
  const config = loadAppConfig({ APP_ROLE: 'api', LOG_LEVEL: 'silent' });
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: false, abortOnError: false });
  try {
    const document = buildApiDocument(app);
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
    process.stdout.write(`wrote ${file}: ${Object.keys(document.paths).length} paths\n`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
