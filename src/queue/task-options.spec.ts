import { BackoffPolicy, decodeBackoff, encodeBackoff } from './task-options';

describe('backoff encoding (the task field `backoff`, read by recover.lua too)', () => {
  it.each<[BackoffPolicy, string]>([
    [{ type: 'exponential', delayMs: 1000, maxDelayMs: 3_600_000, jitter: false }, 'e:1000:3600000:0'],
    [{ type: 'fixed', delayMs: 1, maxDelayMs: 604_800_000, jitter: true }, 'f:1:604800000:1'],
  ])('%p <-> %p', (policy, text) => {
    expect(encodeBackoff(policy)).toBe(text);
    expect(decodeBackoff(text)).toEqual(policy);
  });

  it.each([[undefined], [''], ['x:1:2:0'], ['e:1:2'], ['e:1.5:2:0'], ['e:1:2:3'], ['e:-1:2:0']])('decodes %p as no policy', (text) => {
    expect(decodeBackoff(text)).toBeUndefined();
  });
});
