import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY_SCHEME, BEARER_SCHEME } from './api-errors.decorator';
import { ErrorResponse } from './error-response';

/** The package version, read at run time (src/http and dist/http both sit two levels below the root). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Where the interactive docs are served; the document is at `<path>-json` and `<path>-yaml`. */
export const API_DOCS_PATH = 'docs';

/**
 * The OpenAPI 3 document of the app's routes, generated from the controllers' and DTOs' decorators
 * (nothing here describes a route by hand).
 */
export function buildApiDocument(app: INestApplication): OpenAPIObject {
  const info = new DocumentBuilder()
    .setTitle('taskqueue')
    .setDescription(
      'Distributed asynchronous task queue: submit tasks, follow them, read their outcome. ' +
        'Every error answers the JSON body ErrorResponse ({statusCode, error, message}).',
    )
    .setVersion(packageVersion())
    // Required only when API_KEYS is set; routes declare it with @ApiKeyProtected().
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a key of API_KEYS' }, BEARER_SCHEME)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'a key of API_KEYS' }, API_KEY_SCHEME)
    .build();
  return SwaggerModule.createDocument(app, info, { extraModels: [ErrorResponse] });
}

/**
 * Serves Swagger UI at /docs and the document at /docs-json and /docs-yaml. The document is built on
 * the first request, not at boot, so processes (and tests) that never ask for it pay nothing.
 */
export function mountApiDocs(app: INestApplication): void {
  let document: OpenAPIObject | undefined;
  SwaggerModule.setup(API_DOCS_PATH, app, () => (document ??= buildApiDocument(app)));
}
