import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** Longest wait a request may ask for (seconds). */
export const WAIT_MAX_S = 60;

/**
 * The `wait` query parameter: absent, or a whole number of seconds 1..60 in plain digits. Anything
 * else (0, 61, 1.5, -1, "", a repeated parameter) is a 400 naming it.
 */
@Injectable()
export class WaitSecondsPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    const seconds = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : NaN;
    if (!(seconds >= 1 && seconds <= WAIT_MAX_S)) {
      throw new BadRequestException(`wait must be an integer between 1 and ${WAIT_MAX_S} (seconds)`);
    }
    return seconds;
  }
}
