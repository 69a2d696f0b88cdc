import {
  ArgumentsHost,
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ReplyError } from 'ioredis';
import type { PinoLogger } from 'nestjs-pino';
import { DuplicateTaskIdError, LeaseLostError, QueueServerError, QueueUnavailableError, TaskNotFoundError } from '../queue/queue-errors';
import { IdempotencyConflictError, IdempotencyGoneError, InvalidCursorError, InvalidTaskError } from '../tasks/task-errors';
import { HttpErrorFilter, toHttpError } from './http-error.filter';

describe('toHttpError', () => {
  describe('domain errors', () => {
    it('maps TaskNotFoundError to 404 without echoing the id', () => {
      expect(toHttpError(new TaskNotFoundError('abc'))).toEqual({ status: 404, message: 'task not found' });
    });

    it('maps InvalidTaskError to 400 with its message', () => {
      expect(toHttpError(new InvalidTaskError('unknown task type "nope"'))).toEqual({
        status: 400,
        message: 'unknown task type "nope"',
      });
    });

    it('maps InvalidCursorError to 400 with its message', () => {
      const err = new InvalidCursorError();
      expect(toHttpError(err)).toEqual({ status: 400, message: err.message });
    });

    it('maps QueueUnavailableError to 503 with Retry-After, without leaking the Redis error', () => {
      const result = toHttpError(new QueueUnavailableError(new Error('connect ECONNREFUSED 10.0.0.5:6379')));
      expect(result).toEqual({ status: 503, message: 'queue store (Redis) is unavailable; try again', headers: { 'Retry-After': '1' } });
      expect(result.message).not.toContain('ECONNREFUSED');
    });

    it('maps QueueServerError to a generic 500, never echoing the Redis reply', () => {
      const result = toHttpError(new QueueServerError(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')));
      expect(result).toEqual({ status: 500, message: 'internal error' });
    });

    it('maps IdempotencyConflictError to 422 and IdempotencyGoneError to 410, with their messages', () => {
      expect(toHttpError(new IdempotencyConflictError('Idempotency-Key "k" was already used'))).toEqual({
        status: 422,
        message: 'Idempotency-Key "k" was already used',
      });
      expect(toHttpError(new IdempotencyGoneError('gone'))).toEqual({ status: 410, message: 'gone' });
    });

    it('maps DuplicateTaskIdError to 409', () => {
      expect(toHttpError(new DuplicateTaskIdError())).toEqual({ status: 409, message: 'a task with this id already exists' });
    });

    it('maps other queue errors (LeaseLostError) to 500', () => {
      expect(toHttpError(new LeaseLostError('x'))).toEqual({ status: 500, message: 'internal error' });
    });
  });

  describe('HttpException', () => {
    it('passes the status and string message through', () => {
      expect(toHttpError(new ForbiddenException('no way'))).toEqual({ status: 403, message: 'no way' });
      expect(toHttpError(new NotFoundException())).toEqual({ status: 404, message: 'Not Found' });
    });

    it('passes a plain string response through', () => {
      expect(toHttpError(new HttpException('teapot', 418))).toEqual({ status: 418, message: 'teapot' });
    });

    it('joins an array message with "; "', () => {
      expect(toHttpError(new BadRequestException(['type must be a string', 'payload must be a string']))).toEqual({
        status: 400,
        message: 'type must be a string; payload must be a string',
      });
    });

    it('uses the message of an object response', () => {
      expect(toHttpError(new HttpException({ message: 'custom', statusCode: 422 }, 422))).toEqual({
        status: 422,
        message: 'custom',
      });
    });

    it('sends an object response without "message" (Terminus health report) as the body', () => {
      const report = {
        status: 'error',
        info: {},
        error: { redis: { status: 'down' } },
        details: { redis: { status: 'down' } },
      };
      const result = toHttpError(new ServiceUnavailableException(report));
      expect(result.status).toBe(503);
      expect(result.body).toBe(report);
      expect(typeof result.message).toBe('string');
    });

    it('maps "Failed to decode param" 400s (e.g. /tasks/%FF) to 404', () => {
      expect(toHttpError(new BadRequestException("Failed to decode param '%FF'"))).toEqual({
        status: 404,
        message: 'task not found',
      });
    });

    it('does not map other 400s, or a decode message with another status, to 404', () => {
      expect(toHttpError(new BadRequestException('limit must be an integer'))).toEqual({
        status: 400,
        message: 'limit must be an integer',
      });
      expect(toHttpError(new HttpException("Failed to decode param '%FF'", 422)).status).toBe(422);
    });

    it('keeps the status of PayloadTooLargeException', () => {
      expect(toHttpError(new PayloadTooLargeException('too big')).status).toBe(413);
    });
  });

  describe('body-parser errors', () => {
    const bodyParserError = (type: string, status: number, message = 'x'): Error =>
      Object.assign(new Error(message), { type, status, statusCode: status, expose: true });

    it('maps entity.too.large to 413', () => {
      expect(toHttpError({ type: 'entity.too.large', status: 413, message: 'request entity too large' })).toEqual({
        status: 413,
        message: 'body is larger than the limit (BODY_LIMIT)',
      });
      expect(toHttpError(bodyParserError('entity.too.large', 413)).status).toBe(413);
    });

    it('maps entity.parse.failed to 400 and says the body is not JSON', () => {
      const result = toHttpError(bodyParserError('entity.parse.failed', 400, 'Unexpected token } in JSON'));
      expect(result).toEqual({ status: 400, message: 'body is not valid JSON: Unexpected token } in JSON' });
    });

    it('keeps the 4xx status of other body-parser errors', () => {
      expect(toHttpError(bodyParserError('encoding.unsupported', 415, 'unsupported charset "X"'))).toEqual({
        status: 415,
        message: 'unsupported charset "X"',
      });
      expect(toHttpError(bodyParserError('request.aborted', 400, 'request aborted')).status).toBe(400);
    });

    it('maps an exposed 4xx error without a type (a Content-Encoding that does not decompress) to its status', () => {
      // body-parser wraps zlib errors with http-errors: status 400, expose true, no `type`.
      const zlibError = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', errno: -3, status: 400, statusCode: 400, expose: true });
      expect(toHttpError(zlibError)).toEqual({ status: 400, message: 'body could not be read: incorrect header check' });
    });

    it('does not trust an error that is not exposed, or not 4xx', () => {
      expect(toHttpError(Object.assign(new Error('x'), { status: 400, expose: false })).status).toBe(500);
      expect(toHttpError(Object.assign(new Error('x'), { status: 503, expose: true })).status).toBe(500);
      expect(toHttpError(Object.assign(new Error('x'), { status: '400', expose: true })).status).toBe(500);
    });

    it('turns a non-4xx body-parser status into 400', () => {
      expect(toHttpError(bodyParserError('stream.not.readable', 500, 'stream is not readable')).status).toBe(400);
      expect(toHttpError(bodyParserError('weird', 302, 'weird')).status).toBe(400);
    });
  });

  describe('anything else', () => {
    it.each([
      ['an Error', new Error('secret internal detail')],
      ['a TypeError', new TypeError('x is undefined')],
      ['a string', 'boom'],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['an object without type/status', { message: 'hm' }],
      ['an object with a non-numeric status', { type: 'x', status: '413' }],
    ])('maps %s to 500 "internal error"', (_name, exception) => {
      expect(toHttpError(exception)).toEqual({ status: 500, message: 'internal error' });
    });
  });
});

describe('HttpErrorFilter', () => {
  interface FakeResponse {
    headersSent: boolean;
    statusCode?: number;
    body?: unknown;
    headers: Record<string, string>;
    status(code: number): FakeResponse;
    setHeader(name: string, value: string): FakeResponse;
    json(body: unknown): FakeResponse;
  }

  function setup(headersSent = false): { filter: HttpErrorFilter; res: FakeResponse; logError: jest.Mock; host: ArgumentsHost } {
    const res: FakeResponse = {
      headersSent,
      headers: {},
      setHeader(name, value) {
        res.headers[name] = value;
        return res;
      },
      status(code) {
        res.statusCode = code;
        return res;
      },
      json(body) {
        res.body = body;
        return res;
      },
    };
    const logError = jest.fn();
    const filter = new HttpErrorFilter({ error: logError } as unknown as PinoLogger);
    const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
    return { filter, res, logError, host };
  }

  it('answers with JSON { statusCode, error, message }', () => {
    const { filter, res, host, logError } = setup();
    filter.catch(new TaskNotFoundError('x'), host);
    expect(res.statusCode).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'task not found' });
    expect(logError).not.toHaveBeenCalled();
  });

  it('answers 500s generically and logs the cause', () => {
    const { filter, res, host, logError } = setup();
    filter.catch(new Error('db exploded'), host);
    expect(res.statusCode).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
    expect(logError).toHaveBeenCalledTimes(1);
    expect(logError.mock.calls[0][0]).toEqual(expect.objectContaining({ status: 500, err: expect.objectContaining({ message: 'db exploded' }) }));
  });

  it('answers 503 for Redis outages without an error line per request (the outage is logged once elsewhere)', () => {
    const { filter, res, host, logError } = setup();
    filter.catch(new QueueUnavailableError(new Error('timeout')), host);
    expect(res.statusCode).toBe(503);
    expect(res.headers).toEqual({ 'Retry-After': '1' });
    expect(res.body).toEqual(expect.objectContaining({ statusCode: 503, error: 'Service Unavailable' }));
    expect(logError).not.toHaveBeenCalled();
  });

  it('answers a Redis server error with a generic 500 and logs one line with the reply and the command', () => {
    const { filter, res, host, logError } = setup();
    const reply = Object.assign(new ReplyError('NOPERM this user has no permissions to access one of the keys used as arguments'), {
      command: { name: 'evalsha', args: ['sha', '1', 'key', 'secret payload'] },
    });
    filter.catch(new QueueServerError(reply), host);
    expect(res.statusCode).toBe(500);
    expect(res.headers).toEqual({});
    expect(res.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
    expect(logError).toHaveBeenCalledTimes(1);
    const [fields, msg] = logError.mock.calls[0] as [Record<string, unknown>, string];
    expect(msg).toBe('request failed');
    expect(fields).toEqual(
      expect.objectContaining({
        status: 500,
        redis_reply: 'NOPERM this user has no permissions to access one of the keys used as arguments',
        redis_command: 'evalsha',
      }),
    );
    // The command's arguments (task payloads) are never logged.
    expect(JSON.stringify(fields)).not.toContain('secret payload');
  });

  it('sends a Terminus report as it is, without logging it as an error', () => {
    const { filter, res, host, logError } = setup();
    const report = { status: 'error', info: {}, error: {}, details: {} };
    filter.catch(new ServiceUnavailableException(report), host);
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe(report);
    expect(logError).not.toHaveBeenCalled();
  });

  it('uses "Error" for a status Node has no name for', () => {
    const { filter, res, host } = setup();
    filter.catch(new HttpException('odd', 499), host);
    expect(res.body).toEqual({ statusCode: 499, error: 'Error', message: 'odd' });
  });

  it('writes nothing when the headers were already sent', () => {
    const { filter, res, host } = setup(true);
    filter.catch(new BadRequestException('late'), host);
    expect(res.statusCode).toBeUndefined();
    expect(res.body).toBeUndefined();
  });

  it('uses the HttpStatus of every mapped error', () => {
    const { filter, res, host } = setup();
    filter.catch({ type: 'entity.too.large', status: 413, message: 'too large' }, host);
    expect(res.statusCode).toBe(HttpStatus.PAYLOAD_TOO_LARGE);
    expect(res.body).toEqual(expect.objectContaining({ error: 'Payload Too Large' }));
  });
});
