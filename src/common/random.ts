/** A source of uniform numbers in [0, 1). Injected so jitter and simulated failures are reproducible in tests. */
export interface RandomSource {
  next(): number;
}

export const RANDOM = Symbol('RANDOM');

export const mathRandom: RandomSource = { next: () => Math.random() };
