import { Injectable } from '@nestjs/common';
import { InvalidPayloadError, TaskHandler, TaskType } from './task-handler';

/** Payload: a JSON array of finite numbers, as a string. Result: their sum with two decimals. */
@Injectable()
@TaskType('sum')
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

/** Like Go's `%.2f`: toFixed switches to exponent notation from 1e21 on, Go never does. */
export function formatTwoDecimals(n: number): string {
  if (Math.abs(n) < 1e21) return n.toFixed(2);
  return `${BigInt(n).toString()}.00`;
}
