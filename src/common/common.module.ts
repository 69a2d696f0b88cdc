import { Global, Module } from '@nestjs/common';
import { CLOCK, systemClock } from './clock';
import { mathRandom, RANDOM } from './random';

/**
 * The process-wide clock and randomness, injected everywhere so lease, retry and jitter logic can be
 * tested with fakes. Global: every feature module may need them, none of them owns them.
 */
@Global()
@Module({
  providers: [
    { provide: CLOCK, useValue: systemClock },
    { provide: RANDOM, useValue: mathRandom },
  ],
  exports: [CLOCK, RANDOM],
})
export class CommonModule {}
