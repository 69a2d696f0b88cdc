import { HTTP_TASK_MAX_TIMEOUT_MS } from '../../config/env.schema';
import { InvalidPayloadError } from '../task-handler';
import { HostPolicy } from './host-policy';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** An http task's payload once checked: method upper case, header names lower case, body as sent. */
export interface HttpTaskSpec {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  /** The bytes sent; undefined: no body. */
  body?: string;
  timeoutMs: number;
}

const FIELDS = ['url', 'method', 'headers', 'body', 'timeout_ms'];
const MAX_URL_LENGTH = 2048;
const MAX_HEADERS = 50;
const MAX_HEADER_VALUE_LENGTH = 8192;
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab, obs-text; no CR, LF or NUL. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Set by the worker (framing, connection, the task headers), so a payload may not set them. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  'proxy-authorization',
]);

/**
 * Checks an http task's payload against its shape and HTTP_TASK_ALLOWED_HOSTS; throws
 * InvalidPayloadError naming the field. Runs at submit (400) and again before each attempt (the
 * policy may have changed since: the task then fails without retry).
 */
export function parseHttpPayload(value: unknown, policy: HostPolicy, defaultTimeoutMs: number): HttpTaskSpec {
  if (!policy.enabled) throw new InvalidPayloadError('http tasks are disabled: HTTP_TASK_ALLOWED_HOSTS is empty');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPayloadError('must be a JSON object like {"url": "https://example.com/hook"}');
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !FIELDS.includes(k));
  if (unknown !== undefined) throw new InvalidPayloadError(`unknown field "${unknown}" (known: ${FIELDS.join(', ')})`);

  const url = parseUrl(fields.url, policy);
  const method = parseMethod(fields.method);
  const headers = parseHeaders(fields.headers);
  let body: string | undefined;
  if (fields.body !== undefined) {
    if (method === 'GET' || method === 'HEAD') throw new InvalidPayloadError(`body: a ${method} request carries no body`);
    // A string is sent as it is; any other JSON value as JSON.
    const isText = typeof fields.body === 'string';
    body = isText ? (fields.body as string) : JSON.stringify(fields.body);
    headers['content-type'] ??= isText ? 'text/plain; charset=utf-8' : 'application/json';
  }
  let timeoutMs = defaultTimeoutMs;
  if (fields.timeout_ms !== undefined) {
    const t = fields.timeout_ms;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > HTTP_TASK_MAX_TIMEOUT_MS) {
      throw new InvalidPayloadError(`timeout_ms must be an integer from 1 to ${HTTP_TASK_MAX_TIMEOUT_MS}`);
    }
    timeoutMs = t;
  }
  return { url, method, headers, body, timeoutMs };
}

function parseUrl(value: unknown, policy: HostPolicy): URL {
  if (typeof value !== 'string' || value === '') throw new InvalidPayloadError('url is required: an http or https URL');
  if (value.length > MAX_URL_LENGTH) throw new InvalidPayloadError(`url is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidPayloadError('url is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidPayloadError(`url scheme must be http or https (got "${url.protocol.slice(0, -1)}")`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidPayloadError('url must not hold credentials; send them in headers (e.g. authorization)');
  }
  const problem = policy.hostProblem(url.hostname);
  if (problem !== undefined) throw new InvalidPayloadError(`url: ${problem}`);
  url.hash = '';
  return url;
}

function parseMethod(value: unknown): HttpMethod {
  if (value === undefined) return 'POST';
  const method = typeof value === 'string' ? value.toUpperCase() : undefined;
  if (method === undefined || !(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new InvalidPayloadError(`method must be one of ${HTTP_METHODS.join(', ')}`);
  }
  return method as HttpMethod;
}

function parseHeaders(value: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (value === undefined) return headers;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPayloadError('headers must be an object of header names to string values');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) throw new InvalidPayloadError(`headers: at most ${MAX_HEADERS} headers`);
  for (const [name, headerValue] of entries) {
    if (!HEADER_NAME.test(name)) throw new InvalidPayloadError(`headers: "${name}" is not a valid header name`);
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || lower.startsWith('x-task-')) {
      throw new InvalidPayloadError(`headers.${name} is set by the worker and may not be given`);
    }
    if (typeof headerValue !== 'string') throw new InvalidPayloadError(`headers.${name} must be a string`);
    if (headerValue.length > MAX_HEADER_VALUE_LENGTH || !HEADER_VALUE.test(headerValue)) {
      throw new InvalidPayloadError(`headers.${name} must be at most ${MAX_HEADER_VALUE_LENGTH} characters without control characters (CR, LF, NUL)`);
    }
    if (lower in headers) throw new InvalidPayloadError(`headers: "${name}" is given twice (names are case-insensitive)`);
    headers[lower] = headerValue;
  }
  return headers;
}
