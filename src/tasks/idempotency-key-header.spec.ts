import { BadRequestException } from '@nestjs/common';
import type { Request } from 'express';
import { idempotencyKeyOf } from './idempotency-key-header';

/** As Node presents the header: `headers` joins repeats with ", ", `headersDistinct` keeps each. */
const requestWith = (values?: string[]) =>
  (values === undefined
    ? { headers: {}, headersDistinct: {} }
    : { headers: { 'idempotency-key': values.join(', ') }, headersDistinct: { 'idempotency-key': values } }) as unknown as Request;

describe('idempotencyKeyOf (the Idempotency-Key header)', () => {
  it('is undefined without the header', () => {
    expect(idempotencyKeyOf(requestWith())).toBeUndefined();
  });

  it.each(['k', ' ', '~'.repeat(255), '{order} 17 "quoted" \\ |'])('accepts %p', (key) => {
    expect(idempotencyKeyOf(requestWith([key]))).toBe(key);
  });

  it.each(['', 'k'.repeat(256), 'caf\u00e9', 'tab\there', '\u007f'])('rejects %p with a 400', (key) => {
    expect(() => idempotencyKeyOf(requestWith([key]))).toThrow(new BadRequestException('Idempotency-Key must be 1 to 255 printable ASCII characters'));
  });

  it('rejects the header given twice', () => {
    expect(() => idempotencyKeyOf(requestWith(['a', 'a']))).toThrow(new BadRequestException('Idempotency-Key must be given once'));
  });
});
