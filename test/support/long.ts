/**
 * The long variants of the heaviest suites (`npm run test:long`, which sets TEST_LONG=1): the same
 * tests with their full sizes (more services, loads, faults). `npm test` runs every one of these tests
 * too, in a small variant that checks the same behaviour.
 */
export const LONG = process.env.TEST_LONG === '1';

/** `long` under `npm run test:long`, `short` under `npm test`. */
export const sized = <T>(short: T, long: T): T => (LONG ? long : short);
