import { BadRequestException } from '@nestjs/common';
import { json, NextFunction, Request, RequestHandler, Response } from 'express';
import { jsonShapeProblem } from './json-limits';
import { PlainJsonOutcome, plainJsonLength, readPlainJson } from './plain-json-body';

/** Set on a request whose JSON body was sent but holds nothing but whitespace (or nothing at all). */
const BLANK_BODY = Symbol('blank JSON body');
type MaybeBlank = Request & { [BLANK_BODY]?: true };

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const isBlank = (buf: Buffer): boolean => buf.every((byte) => WHITESPACE.has(byte));

/**
 * The JSON body parser of the API, with BODY_LIMIT (`limitBytes`), its error handler and the shape
 * limits of json-limits.ts, as one middleware (one router layer instead of three):
 * - any JSON value is parsed (not only objects and arrays, body-parser's "strict" mode), so that the route
 *   can say what it wanted (`body must be a JSON object`) instead of calling `5` or `null` invalid JSON;
 * - a blank body (`Content-Length: 0`, or whitespace only) is remembered (isEmptyBody) and reaches the
 *   routes as `{}`, as body-parser hands over an empty one; it is no syntax error;
 * - a syntax error is a 400 that says so;
 * - a parsed body beyond MAX_JSON_DEPTH or MAX_JSON_VALUES is a 400 (jsonShapeProblem).
 * Errors of the middleware before it (the API key check) pass through untouched: they never reach it.
 * A plain request (plain-json-body.ts: `application/json` with a Content-Length within the limit, not
 * compressed) is read without body-parser, to the same outcome; every other goes through body-parser.
 */
export function jsonBodyParser(limitBytes: number): RequestHandler {
  const parse = json({
    limit: limitBytes,
    strict: false,
    verify: (req, _res, buf) => {
      if (isBlank(buf)) (req as MaybeBlank)[BLANK_BODY] = true;
    },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const plainLength = plainJsonLength(req, limitBytes);
    if (plainLength !== undefined) {
      readPlainJson(req, plainLength, (outcome) => parsePlainJson(outcome, req, next));
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) {
        explainJsonErrors(err, req, next);
        return;
      }
      checkShape(req, next);
    });
  };
}

function checkShape(req: Request, next: NextFunction): void {
  const problem = jsonShapeProblem(req.body);
  next(problem === undefined ? undefined : new BadRequestException(problem));
}

/** What body-parser's verify, parse and error path above make of the same bytes. */
function parsePlainJson(outcome: PlainJsonOutcome, req: Request, next: NextFunction): void {
  if ('error' in outcome) {
    next(outcome.error);
    return;
  }
  if (isBlank(outcome.bytes)) (req as MaybeBlank)[BLANK_BODY] = true;
  if (outcome.text.length === 0) {
    req.body = {};
  } else {
    try {
      req.body = JSON.parse(outcome.text);
    } catch (err) {
      req.body = undefined;
      explainJsonErrors(Object.assign(err as Error, { type: 'entity.parse.failed' }), req, next);
      return;
    }
  }
  checkShape(req, next);
}

function explainJsonErrors(err: unknown, req: Request, next: NextFunction): void {
  if ((req as MaybeBlank)[BLANK_BODY]) {
    req.body = {};
    next();
    return;
  }
  const parseFailed = (err as { type?: string } | undefined)?.type === 'entity.parse.failed';
  next(parseFailed ? new BadRequestException(`body is not valid JSON: ${(err as Error).message}`) : err);
}

/**
 * True when the request came without a body (no Content-Length and no Transfer-Encoding, or
 * `Content-Length: 0`) or with a blank one (see jsonBodyParser). A body the JSON parser skipped (another
 * Content-Type) is not empty.
 */
export function isEmptyBody(req: Request): boolean {
  if ((req as MaybeBlank)[BLANK_BODY]) return true;
  if (req.body !== undefined) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0);
}
