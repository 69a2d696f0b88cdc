import { BadRequestException } from '@nestjs/common';
import type { Request } from 'express';
import { IDEMPOTENCY_KEY_PATTERN } from '../queue/task-limits';
import { IDEMPOTENCY_KEY_MESSAGE } from './dto/create-batch-task.dto';

/** Reads the Idempotency-Key request header: undefined when absent, 400 when malformed or given twice. */
export function idempotencyKeyOf(req: Request): string | undefined {
  // headersDistinct builds an object of every header on each read: only when the header is there.
  if (req.headers['idempotency-key'] === undefined) return undefined;
  const values = req.headersDistinct['idempotency-key'];
  if (values === undefined) return undefined;
  if (values.length > 1) throw new BadRequestException('Idempotency-Key must be given once');
  if (!IDEMPOTENCY_KEY_PATTERN.test(values[0])) throw new BadRequestException(`Idempotency-Key ${IDEMPOTENCY_KEY_MESSAGE}`);
  return values[0];
}
