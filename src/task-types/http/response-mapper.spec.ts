import { NonRetryableError, RetryAfterError } from '../task-handler';
import { HttpTaskResponse, parseRetryAfter, resultOf } from './response-mapper';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function response(status: number, body: string | Buffer = '', headers: HttpTaskResponse['headers'] = {}, extra: Partial<HttpTaskResponse> = {}): HttpTaskResponse {
  return { status, headers, body: Buffer.from(body), truncated: false, url: new URL('https://api.example.com/hook'), redirected: false, ...extra };
}
const thrown = (r: HttpTaskResponse): Error => {
  try {
    resultOf(r, NOW);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
};

describe('resultOf', () => {
  it('2xx: status, the kept headers, JSON parsed', () => {
    const r = response(201, '{"id":7}', { 'content-type': 'application/json; charset=utf-8', etag: '"v1"', 'set-cookie': ['a=1'], server: 'x' });
    expect(resultOf(r, NOW)).toEqual({ status: 201, headers: { 'content-type': 'application/json; charset=utf-8', etag: '"v1"' }, body: { id: 7 } });
  });

  it('keeps text as text, and JSON that does not parse or was cut as text', () => {
    expect(resultOf(response(200, 'hello', { 'content-type': 'text/plain' }), NOW).body).toBe('hello');
    expect(resultOf(response(200, 'hello'), NOW).body).toBe('hello');
    expect(resultOf(response(200, '{bad', { 'content-type': 'application/json' }), NOW).body).toBe('{bad');
    expect(resultOf(response(200, '{"a":', { 'content-type': 'application/problem+json' }, { truncated: true }), NOW)).toEqual({
      status: 200,
      headers: { 'content-type': 'application/problem+json' },
      body: '{"a":',
      body_truncated: true,
    });
    expect(resultOf(response(204), NOW)).toEqual({ status: 204, headers: {}, body: '' });
  });

  it('keeps binary bodies as base64 and names the final URL after redirects', () => {
    const r = response(200, Buffer.from([0, 1, 255]), { 'content-type': 'image/png' }, { redirected: true, url: new URL('https://api.example.com/b') });
    expect(resultOf(r, NOW)).toEqual({
      status: 200,
      headers: { 'content-type': 'image/png' },
      body: 'AAH/',
      body_encoding: 'base64',
      url: 'https://api.example.com/b',
    });
  });

  it.each([500, 502, 503, 599, 429])('%s is retryable, quoting the start of the body', (status) => {
    const err = thrown(response(status, `  busy\n  ${'x'.repeat(300)}`));
    expect(err).not.toBeInstanceOf(NonRetryableError);
    expect(err).not.toBeInstanceOf(RetryAfterError);
    expect(err.message).toBe(`HTTP ${status}: busy ${'x'.repeat(195)}…`);
  });

  it('429 and 5xx with Retry-After ask for that delay', () => {
    const seconds = thrown(response(429, '', { 'retry-after': '7' }));
    expect(seconds).toBeInstanceOf(RetryAfterError);
    expect(seconds).toMatchObject({ delayMs: 7000, message: 'HTTP 429 (Retry-After 7 s)' });
    const date = thrown(response(503, 'later', { 'retry-after': 'Thu, 01 Jan 2026 00:01:30 GMT' }));
    expect(date).toMatchObject({ delayMs: 90_000, message: 'HTTP 503: later (Retry-After 90 s)' });
    expect(thrown(response(503, '', { 'retry-after': 'soon' }))).not.toBeInstanceOf(RetryAfterError);
  });

  it.each([400, 401, 403, 404, 409, 410, 422, 300, 304, 302])('%s fails without retry, naming the status', (status) => {
    const err = thrown(response(status, '{"error":"nope"}'));
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err.message).toBe(`HTTP ${status}: {"error":"nope"}`);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    [undefined, undefined],
    ['0', 0],
    ['120', 120_000],
    [' 3 ', 3000],
    ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['-1', undefined],
    ['1.5', undefined],
    ['2', 2000],
    ['', undefined],
    ['later', undefined],
  ])('%p is %p ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });
});
