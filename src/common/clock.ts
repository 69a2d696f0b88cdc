/** Wall-clock time in epoch milliseconds. Injected so lease and retry logic can be tested without sleeping. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };
