import { Injectable } from '@nestjs/common';
import { InvalidPayloadError, TaskHandler } from './task-handler';

/** Payload: a JSON array of finite numbers, as a string. Result: their sum with two decimals. */
@Injectable()
@TaskHandler('sum', { payload: 'string' })
export class SumHandler implements TaskHandler {
  validatePayload(payload: string): void {
    this.sum(payload);
  }

  async handle(payload: string): Promise<string> {
    return formatTwoDecimals(this.sum(payload));
  }

  private sum(payload: string): number {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      throw new InvalidPayloadError('sum payload must be a JSON array of numbers, e.g. "[1, 2, 5]"');
    }
    if (!Array.isArray(parsed)) {
      throw new InvalidPayloadError('sum payload must be a JSON array of numbers, e.g. "[1, 2, 5]"');
    }
    let total = 0;
    parsed.forEach((n: unknown, i) => {
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        throw new InvalidPayloadError(`sum payload element ${i} is not a finite number`);
      }
      total += n;
    });
    if (!Number.isFinite(total)) throw new InvalidPayloadError('sum of the payload overflows a 64-bit float');
    return total;
  }
}

/**
 * Go's `%.2f`, which the original used: the exact value of the double, rounded half to even.
 * JavaScript's toFixed rounds exact value too but breaks ties upwards, and switches to exponent
 * notation from 1e21 on. A tie at two decimals needs an exact third decimal 5, which a double only
 * holds when it is a multiple of 1/8 (0.125, 0.375, ...): those are rounded to even here.
 */
export function formatTwoDecimals(n: number): string {
  if (Math.abs(n) >= 1e21) return `${BigInt(n).toString()}.00`;
  const eighths = n * 8; // exact: scaling by a power of two
  if (Number.isInteger(eighths)) {
    const hundredths = eighths * 12.5; // exact for these magnitudes
    if (!Number.isInteger(hundredths)) {
      const down = Math.floor(hundredths);
      const even = down % 2 === 0 ? down : down + 1;
      return (even / 100).toFixed(2);
    }
  }
  return n.toFixed(2);
}
