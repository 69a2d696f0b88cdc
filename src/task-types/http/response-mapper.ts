import { NonRetryableError, RetryAfterError } from '../task-handler';

/** A response as the client read it: the body cut at HTTP_TASK_MAX_RESPONSE_BYTES. */
export interface HttpTaskResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body had more bytes than were kept. */
  truncated: boolean;
  /** The URL that answered (after redirects). */
  url: URL;
  redirected: boolean;
}

/** An http task's result (README "HTTP-target tasks"). */
export interface HttpTaskResult {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response is JSON and whole; text when textual; base64 otherwise. */
  body: unknown;
  body_encoding?: 'base64';
  body_truncated?: true;
  /** Present after redirects: the URL that answered. */
  url?: string;
}

/** Response headers kept in the result. */
export const KEPT_HEADERS = ['content-type', 'content-length', 'location', 'etag', 'last-modified', 'retry-after', 'x-request-id'];

/** Most characters of a failed response's body quoted in the task's error. */
const ERROR_SNIPPET_CHARS = 200;

/**
 * The outcome of a response: 2xx returns the result; 429 and 5xx throw a retryable error (a
 * RetryAfterError when Retry-After is given); any other status throws NonRetryableError.
 */
export function resultOf(response: HttpTaskResponse, nowMs: number): HttpTaskResult {
  const { status } = response;
  if (status >= 200 && status < 300) return successResult(response);
  const message = `HTTP ${status}${snippet(response)}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(header(response, 'retry-after'), nowMs);
    if (retryAfterMs !== undefined) throw new RetryAfterError(`${message} (Retry-After ${Math.ceil(retryAfterMs / 1000)} s)`, retryAfterMs);
    throw new Error(message);
  }
  throw new NonRetryableError(message);
}

/**
 * Retry-After as a delay in ms: delta-seconds or an HTTP date (a past date: 0); undefined when absent
 * or unreadable. The executor caps it at the task's max_delay_ms.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a weekday or month; Date.parse would also take "2", "1.5" or "-3".
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function successResult(response: HttpTaskResponse): HttpTaskResult {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = header(response, name);
    if (value !== undefined) headers[name] = value;
  }
  const result: HttpTaskResult = { status: response.status, headers, body: '' };
  const contentType = (headers['content-type'] ?? '').toLowerCase();
  if (isJson(contentType) && !response.truncated) {
    result.body = parseJsonOr(response.body.toString('utf8'));
  } else if (isText(contentType)) {
    result.body = response.body.toString('utf8');
  } else {
    result.body = response.body.toString('base64');
    result.body_encoding = 'base64';
  }
  if (response.truncated) result.body_truncated = true;
  if (response.redirected) result.url = response.url.href;
  return result;
}

function header(response: HttpTaskResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function isJson(contentType: string): boolean {
  return /^application\/([\w.+-]+\+)?json\b/.test(contentType);
}

function isText(contentType: string): boolean {
  return (
    contentType === '' ||
    contentType.startsWith('text/') ||
    isJson(contentType) ||
    /^application\/([\w.+-]+\+)?(xml|x-www-form-urlencoded|javascript)\b/.test(contentType)
  );
}

function parseJsonOr(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** ": <the body's first characters on one line>" when it has any. */
function snippet(response: HttpTaskResponse): string {
  const text = response.body.subarray(0, ERROR_SNIPPET_CHARS * 4).toString('utf8').replace(/\s+/g, ' ').trim();
  if (text === '') return '';
  return `: ${text.length > ERROR_SNIPPET_CHARS ? `${text.slice(0, ERROR_SNIPPET_CHARS)}…` : text}`;
}
