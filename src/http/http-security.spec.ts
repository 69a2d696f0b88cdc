import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { constantHeaders } from './http-security';

const HELMET = () => helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });

/** The headers of GET /x from an app with `middleware` first, without those every answer has. */
async function headersWith(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.use(middleware);
  app.get('/x', (_req, res) => {
    res.json({ ok: true });
  });
  const { headers } = await request(app).get('/x').expect(200);
  const { date: _date, connection: _connection, ...rest } = headers as Record<string, string>;
  return rest;
}

describe('constantHeaders', () => {
  it("replays exactly the headers helmet sets (and the X-Powered-By it removes)", async () => {
    const middleware = HELMET();
    const replayed = constantHeaders(middleware);
    expect(replayed).not.toBe(middleware);
    const expected = await headersWith(HELMET());
    expect(expected['content-security-policy']).toContain("default-src 'self'");
    expect(expected['x-powered-by']).toBeUndefined();
    expect(await headersWith(replayed)).toEqual(expected);
  });

  it('keeps a middleware that reads the request, fails or does not call next at once', () => {
    const readsRequest: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
      res.setHeader('X-Path', req.path);
      next();
    };
    const fails: RequestHandler = (_req, _res, next) => next(new Error('no'));
    const later: RequestHandler = (_req, _res, next) => void setImmediate(next);
    const readsResponse: RequestHandler = (_req, res, next) => {
      if (!res.headersSent) res.setHeader('X-A', '1');
      next();
    };
    for (const middleware of [readsRequest, fails, later, readsResponse]) expect(constantHeaders(middleware)).toBe(middleware);
  });
});
