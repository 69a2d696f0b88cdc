import type { Request } from 'express';

/**
 * The body of a request body-parser would read the plain way, read without it: `Content-Type:
 * application/json` (or with `; charset=utf-8`), no Content-Encoding or Transfer-Encoding, and a
 * Content-Length within the limit. That is every body a JSON client sends, and it needs none of
 * body-parser's type matching, charset and encoding lookups, decompression or limit counting (about 6%
 * of an API process's CPU under POST /tasks). Any other request is left to body-parser (jsonBodyParser).
 *
 * The outcome is body-parser's for the same bytes (its parity spec compares them):
 * - `bytes`: the body as received; `text`: it decoded as UTF-8 with a leading byte order mark removed
 *   (iconv-lite's decode, which body-parser uses, removes it);
 * - a client that goes away before the end: raw-body's 400 `request aborted` (type `request.aborted`);
 *   a stream error: that error as a 400 (http-errors' convention, as body-parser passes it on).
 */
export type PlainJsonOutcome = { bytes: Buffer; text: string } | { error: Error };

const PLAIN_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);

/** The declared length when `req` is such a plain request, else undefined (body-parser reads it). */
export function plainJsonLength(req: Request, limitBytes: number): number | undefined {
  const headers = req.headers;
  const type = headers['content-type'];
  if (type === undefined || !PLAIN_TYPES.has(type)) return undefined;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
  const declared = headers['content-length'];
  if (declared === undefined || !/^\d{1,15}$/.test(declared)) return undefined;
  const length = Number(declared);
  // Over the limit: body-parser's 413, without reading. A request already read or closed: its handling too.
  if (length > limitBytes || !req.readable || req.readableFlowing !== null || req.socket?.readable !== true) return undefined;
  return length;
}

/** Reads the body of a request plainJsonLength accepted (`length` bytes); calls `done` once. */
export function readPlainJson(req: Request, length: number, done: (outcome: PlainJsonOutcome) => void): void {
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let received = 0;
  const finish = (outcome: PlainJsonOutcome): void => {
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('aborted', onAborted);
    req.removeListener('error', onError);
    if ('error' in outcome) {
      // As body-parser: stop reading, and answer once the request is over.
      req.unpipe();
      req.pause();
      whenRequestOver(req, () => done(outcome));
      return;
    }
    done(outcome);
  };
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  };
  const onEnd = (): void => {
    // Node's parser delivers exactly Content-Length bytes or aborts; kept as raw-body checks it.
    if (received !== length) {
      finish({ error: clientError('request size did not match content length', 'request.size.invalid', length, received) });
      return;
    }
    const bytes = chunks !== undefined ? Buffer.concat(chunks, received) : (first ?? Buffer.alloc(0));
    const decoded = bytes.toString('utf8');
    finish({ bytes, text: decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded });
  };
  const onAborted = (): void => {
    const err = clientError('request aborted', 'request.aborted', length, received);
    (err as Error & { code?: string }).code = 'ECONNABORTED';
    finish({ error: err });
  };
  const onError = (err: Error): void => {
    const e = err as Error & { status?: number; statusCode?: number; expose?: boolean };
    e.status = e.statusCode = 400;
    e.expose = true;
    finish({ error: e });
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('aborted', onAborted);
  req.on('error', onError);
}

/** An error in the http-errors convention with raw-body's fields, so the error filter treats it as raw-body's. */
function clientError(message: string, type: string, length: number, received: number): Error {
  return Object.assign(new Error(message), { status: 400, statusCode: 400, expose: true, type, expected: length, length, received });
}

/** `callback` once the request's stream is finished (body-parser's dump: read off what is left, then go on). */
function whenRequestOver(req: Request, callback: () => void): void {
  if (!req.readable || req.socket?.readable !== true) {
    setImmediate(callback);
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    callback();
  };
  req.once('end', once);
  req.once('close', once);
  req.resume();
}
