import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';

type Doc = OpenAPIV3.Document;
const ERROR_REF = '#/components/schemas/ErrorResponse';

/**
 * Every route Express serves, as `METHOD /openapi/{path}`: Nest's controllers and anything mounted
 * on Express directly. Left out: the docs' own routes and catch-all middleware (`/{*path}`).
 * Middleware bound to a route shows up as the same route again (the Set removes it).
 */
function registeredRoutes(t: TestApp): string[] {
  const stack = (t.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } })
    .router.stack;
  const routes = new Set<string>();
  for (const { route } of stack) {
    if (!route || route.path.includes('{*') || /^\/docs($|[-/])/.test(route.path)) continue;
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    for (const method of Object.keys(route.methods).filter((m) => m !== '_all')) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return [...routes].sort();
}

function documentedRoutes(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item ?? {}).filter((k) => k !== 'parameters').map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

function operation(doc: Doc, method: string, path: string): OpenAPIV3.OperationObject {
  const op = (doc.paths[path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[method];
  if (!op) throw new Error(`${method} ${path} is not documented`);
  return op;
}

const schemaOf = (doc: Doc, name: string) => doc.components?.schemas?.[name] as OpenAPIV3.SchemaObject;

/** The OpenAPI document at /docs-json: valid, complete, and agreeing with what the API answers. */
describe('API documentation (/docs)', () => {
  const prefix = uniquePrefix('api-docs');
  const redis = testRedis();
  let t: TestApp | undefined;
  let doc: Doc;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api', QUEUE_PREFIX: prefix });
    doc = (await request(t.http).get('/docs-json').expect(200).expect('Content-Type', /json/)).body as Doc;
  });
  afterAll(async () => {
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('is a valid OpenAPI 3 document (checked by swagger-parser)', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('documents every route the app registers, with its method (a new route without docs fails here)', () => {
    const registered = registeredRoutes(t as TestApp);
    expect(registered).toEqual(expect.arrayContaining(['POST /tasks', 'GET /tasks/{id}', 'DELETE /tasks/{id}', 'GET /health']));
    expect(documentedRoutes(doc)).toEqual(expect.arrayContaining(registered));
    // Swagger lists every controller route, decorated or not: documented means a summary and a
    // description for each response (an undecorated route has neither).
    const undocumented = registered.flatMap((route) => {
      const [method, path] = route.split(' ');
      const op = operation(doc, method.toLowerCase(), path);
      const bare = Object.entries(op.responses).filter(([, r]) => !/\S/.test((r as OpenAPIV3.ResponseObject).description ?? ''));
      return [...(op.summary ? [] : [`${route}: no summary`]), ...bare.map(([status]) => `${route}: response ${status} has no description`)];
    });
    expect(undocumented).toEqual([]);
  });

  it('names every route in the README endpoint table (a route nobody can find there fails here)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| endpoint | what it does |'));
    const listed = new Set([...table.slice(0, table.indexOf('\n\n')).matchAll(/`(GET|POST|PUT|PATCH|DELETE) ([^`]+)`/g)].map((m) => `${m[1]} ${m[2]}`));
    expect(listed.size).toBeGreaterThan(5);
    expect(registeredRoutes(t as TestApp).filter((route) => !listed.has(route))).toEqual([]);
  });

  it('gives every task route its errors with the ErrorResponse body, 503 its Retry-After, 401 and the API key schemes', () => {
    expect(doc.components?.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      'api-key': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    const error = schemaOf(doc, 'ErrorResponse');
    expect(Object.keys(error.properties ?? {}).sort()).toEqual(['error', 'message', 'statusCode']);
    expect([...(error.required ?? [])].sort()).toEqual(['error', 'message', 'statusCode']);
    const taskRoutes = documentedRoutes(doc).filter((r) => r.split(' ')[1].startsWith('/tasks'));
    expect(taskRoutes.length).toBeGreaterThanOrEqual(6);
    for (const route of taskRoutes) {
      const [method, path] = route.split(' ');
      const op = operation(doc, method.toLowerCase(), path);
      expect({ route, summary: op.summary }).toEqual({ route, summary: expect.any(String) });
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      expect({ route, statuses: errors.map(([s]) => s) }).toEqual({ route, statuses: expect.arrayContaining(['401', '500', '503']) });
      expect({ route, security: op.security }).toEqual({ route, security: [{ bearer: [] }, { 'api-key': [] }] });
      for (const [status, response] of errors) {
        const schema = (response as OpenAPIV3.ResponseObject).content?.['application/json']?.schema;
        expect({ route, status, schema }).toEqual({ route, status, schema: { $ref: ERROR_REF } });
      }
      expect(Object.keys((op.responses['503'] as OpenAPIV3.ResponseObject).headers ?? {})).toContain('Retry-After');
      expect(Object.keys((op.responses['401'] as OpenAPIV3.ResponseObject).headers ?? {})).toContain('WWW-Authenticate');
    }
  });

  it('documents the parameters, bodies and headers of the task routes', () => {
    const create = operation(doc, 'post', '/tasks');
    expect(create.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateTaskDto' } } } });
    expect(create.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'wait', in: 'query' }),
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
      ]),
    );
    expect(Object.keys((create.responses['201'] as OpenAPIV3.ResponseObject).headers ?? {})).toContain('X-Task-Wait');
    expect(Object.keys((create.responses['200'] as OpenAPIV3.ResponseObject).headers ?? {})).toContain('Idempotent-Replayed');
    const batch = operation(doc, 'post', '/tasks/batch');
    expect(batch.requestBody).toMatchObject({
      content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/CreateBatchTaskDto' } } } },
    });
    const list = operation(doc, 'get', '/tasks');
    expect((list.parameters as OpenAPIV3.ParameterObject[]).map((p) => `${p.in}:${p.name}`).sort()).toEqual(
      ['query:cursor', 'query:limit', 'query:priority', 'query:queue', 'query:status', 'query:type'],
    );
    expect(Object.keys((list.responses['200'] as OpenAPIV3.ResponseObject).headers ?? {})).toEqual(['Link']);
    const get = operation(doc, 'get', '/tasks/{id}');
    expect((get.parameters as OpenAPIV3.ParameterObject[]).map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:id', 'query:wait']);
    expect(Object.keys((get.responses['200'] as OpenAPIV3.ResponseObject).headers ?? {})).toEqual(['X-Task-Wait']);
    expect(Object.keys(operation(doc, 'get', '/tasks/{id}/events').responses['200'])).toContain('content');
    expect(operation(doc, 'get', '/tasks/{id}/events').responses['200']).toMatchObject({ content: { 'text/event-stream': {} } });
    expect(operation(doc, 'delete', '/tasks/{id}').responses['204']).toBeDefined();
    // The body DTO carries its validation limits.
    expect(schemaOf(doc, 'CreateTaskDto')).toMatchObject({ required: ['type'], properties: { priority: { enum: ['high', 'normal', 'low'] } } });
    expect(schemaOf(doc, 'BackoffDto').properties).toHaveProperty('max_delay_ms');
  });

  it('agrees with what the API answers: task JSON and error bodies only have documented fields', async () => {
    const http = (t as TestApp).http;
    const created = await request(http)
      .post('/tasks')
      .send({ type: 'echo', payload: 'x', delay_ms: 60_000, priority: 'high', timeout_ms: 5000, backoff: { type: 'fixed', jitter: true } })
      .expect(201);
    const fetched = await request(http).get(`/tasks/${created.body.id}`).expect(200);
    const task = schemaOf(doc, 'TaskResponse');
    const documented = Object.keys(task.properties ?? {});
    for (const body of [created.body, fetched.body]) {
      expect(documented).toEqual(expect.arrayContaining(Object.keys(body)));
      expect(Object.keys(body)).toEqual(expect.arrayContaining(task.required ?? []));
    }
    expect(Object.keys(schemaOf(doc, 'BackoffResponse').properties ?? {}).sort()).toEqual(Object.keys(created.body.backoff).sort());
    const missing = await request(http).get('/tasks/00000000-0000-4000-8000-000000000000').expect(404);
    expect(Object.keys(missing.body).sort()).toEqual(Object.keys(schemaOf(doc, 'ErrorResponse').properties ?? {}).sort());
  });

  it('serves the same document as YAML, and Swagger UI at /docs', async () => {
    const http = (t as TestApp).http;
    const yaml = await request(http).get('/docs-yaml').expect(200);
    expect(yaml.text).toMatch(/^openapi: 3\./m);
    expect(yaml.text).toContain('/tasks/{id}/events:');
    const ui = await request(http).get('/docs').expect(200).expect('Content-Type', /html/);
    // Its scripts (resolved against the page, /docs) are files, no inline script that helmet's CSP would block.
    const scripts = [...ui.text.matchAll(/<script src=['"]([^'"]+)['"]/g)].map((m) => new URL(m[1], 'http://x/docs').pathname);
    expect(scripts).toContain('/docs/swagger-ui-init.js');
    expect(ui.text).not.toMatch(/<script>/);
    for (const path of scripts) await request(http).get(path).expect(200);
  });

  it('is not served by worker-only processes', async () => {
    const worker = await createTestApp({ APP_ROLE: 'worker', QUEUE_PREFIX: prefix, WORKER_COUNT: '0' });
    try {
      await request(worker.http).get('/docs-json').expect(404);
      await request(worker.http).get('/health/live').expect(200);
    } finally {
      await worker.close();
    }
  });
});
