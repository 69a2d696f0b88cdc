import { Injectable, NestMiddleware, BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Requests with a body must declare it as JSON; anything else would reach validation as an empty object. */
@Injectable()
export class RequireJsonMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    if (!req.is('application/json')) {
      throw new BadRequestException(
        `Content-Type must be application/json (got ${req.headers['content-type'] ? `"${req.headers['content-type']}"` : 'none'})`,
      );
    }
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw new BadRequestException('body must be a JSON object');
    }
    // JSON.parse keeps "__proto__" as an own key; class-transformer would silently drop it.
    for (const key of FORBIDDEN_KEYS) {
      if (Object.prototype.hasOwnProperty.call(req.body, key)) {
        throw new BadRequestException(`property ${key} should not exist`);
      }
    }
    next();
  }
}
