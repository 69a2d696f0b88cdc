import { InvalidPayloadError } from '../task-handler';
import { HostPolicy } from './host-policy';
import { parseHttpPayload } from './http-payload';

describe('parseHttpPayload', () => {
  const policy = new HostPolicy(['api.example.com', '*.hooks.example.org', '127.0.0.1']);
  const parse = (value: unknown) => parseHttpPayload(value, policy, 30_000);
  const problem = (value: unknown): string => {
    try {
      parse(value);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidPayloadError);
      return (err as Error).message;
    }
    throw new Error('expected the payload to be rejected');
  };

  it('defaults to POST without a body and the configured timeout', () => {
    const spec = parse({ url: 'https://api.example.com/hook#frag' });
    expect(spec).toEqual({ url: new URL('https://api.example.com/hook'), method: 'POST', headers: {}, body: undefined, timeoutMs: 30_000 });
  });

  it('sends a JSON value as JSON and a string as text, unless a content-type is given', () => {
    expect(parse({ url: 'https://api.example.com/', body: { a: [1, null] } })).toMatchObject({
      body: '{"a":[1,null]}',
      headers: { 'content-type': 'application/json' },
    });
    expect(parse({ url: 'https://api.example.com/', body: 'a=1' })).toMatchObject({ body: 'a=1', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(parse({ url: 'https://api.example.com/', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).toMatchObject({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(parse({ url: 'https://api.example.com/', body: null })).toMatchObject({ body: 'null' });
  });

  it('takes the method in any case, header names in lower case, its own timeout', () => {
    expect(parse({ url: 'http://x.hooks.example.org:8080/p?q=1', method: 'put', headers: { Authorization: 'Bearer x' }, timeout_ms: 1500 })).toEqual({
      url: new URL('http://x.hooks.example.org:8080/p?q=1'),
      method: 'PUT',
      headers: { authorization: 'Bearer x' },
      body: undefined,
      timeoutMs: 1500,
    });
  });

  it.each([
    ['a string', 'https://api.example.com', 'must be a JSON object like {"url": "https://example.com/hook"}'],
    ['an array', [], 'must be a JSON object like {"url": "https://example.com/hook"}'],
    ['null', null, 'must be a JSON object like {"url": "https://example.com/hook"}'],
    ['an unknown field', { url: 'https://api.example.com', retries: 1 }, 'unknown field "retries" (known: url, method, headers, body, timeout_ms)'],
    ['no url', {}, 'url is required: an http or https URL'],
    ['a number url', { url: 5 }, 'url is required: an http or https URL'],
    ['a relative url', { url: '/hook' }, 'url is not a valid absolute URL'],
    ['a long url', { url: `https://api.example.com/${'a'.repeat(2048)}` }, 'url is longer than 2048 characters'],
    ['an ftp url', { url: 'ftp://api.example.com/' }, 'url scheme must be http or https (got "ftp")'],
    ['a file url', { url: 'file:///etc/passwd' }, 'url scheme must be http or https (got "file")'],
    ['credentials', { url: 'https://u:p@api.example.com/' }, 'url must not hold credentials; send them in headers (e.g. authorization)'],
    ['a host not listed', { url: 'https://evil.example.net/' }, 'url: host "evil.example.net" is not allowed by HTTP_TASK_ALLOWED_HOSTS'],
    ['the pattern base', { url: 'https://hooks.example.org/' }, 'url: host "hooks.example.org" is not allowed by HTTP_TASK_ALLOWED_HOSTS'],
    ['a metadata IP', { url: 'http://169.254.169.254/' }, 'url: host "169.254.169.254" is not allowed by HTTP_TASK_ALLOWED_HOSTS'],
    ['a bad method', { url: 'https://api.example.com', method: 'TRACE' }, 'method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    ['a number method', { url: 'https://api.example.com', method: 1 }, 'method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    ['headers as a list', { url: 'https://api.example.com', headers: ['a'] }, 'headers must be an object of header names to string values'],
    ['a bad header name', { url: 'https://api.example.com', headers: { 'x y': '1' } }, 'headers: "x y" is not a valid header name'],
    ['a number header', { url: 'https://api.example.com', headers: { 'x-n': 1 } }, 'headers.x-n must be a string'],
    ['CRLF in a value', { url: 'https://api.example.com', headers: { 'x-a': 'a\r\nhost: evil' } }, 'headers.x-a must be at most 8192 characters without control characters (CR, LF, NUL)'],
    ['a reserved header', { url: 'https://api.example.com', headers: { Host: 'evil' } }, 'headers.Host is set by the worker and may not be given'],
    ['a task header', { url: 'https://api.example.com', headers: { 'X-Task-Signature': 'sha256=0' } }, 'headers.X-Task-Signature is set by the worker and may not be given'],
    ['a header twice', { url: 'https://api.example.com', headers: { 'x-a': '1', 'X-A': '2' } }, 'headers: "X-A" is given twice (names are case-insensitive)'],
    ['too many headers', { url: 'https://api.example.com', headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-${i}`, ''])) }, 'headers: at most 50 headers'],
    ['a GET body', { url: 'https://api.example.com', method: 'GET', body: {} }, 'body: a GET request carries no body'],
    ['a zero timeout', { url: 'https://api.example.com', timeout_ms: 0 }, 'timeout_ms must be an integer from 1 to 600000'],
    ['a long timeout', { url: 'https://api.example.com', timeout_ms: 600_001 }, 'timeout_ms must be an integer from 1 to 600000'],
    ['a fractional timeout', { url: 'https://api.example.com', timeout_ms: 1.5 }, 'timeout_ms must be an integer from 1 to 600000'],
    ['a string timeout', { url: 'https://api.example.com', timeout_ms: '100' }, 'timeout_ms must be an integer from 1 to 600000'],
  ])('rejects %s', (_name, value, message) => {
    expect(problem(value)).toBe(message);
  });

  it('rejects everything while the type is disabled', () => {
    expect(() => parseHttpPayload({ url: 'https://api.example.com' }, new HostPolicy([]), 1000)).toThrow(
      'http tasks are disabled: HTTP_TASK_ALLOWED_HOSTS is empty',
    );
  });

  it('refuses a listed metadata address by its address class', () => {
    expect(() => parseHttpPayload({ url: 'http://169.254.169.254/' }, new HostPolicy(['169.254.169.254']), 1000)).toThrow(
      'url: 169.254.169.254 is a link-local, metadata or reserved address',
    );
  });
});
