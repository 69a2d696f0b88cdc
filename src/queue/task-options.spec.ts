import { BackoffPolicy, decodeBackoff, decodeTaskOptions, encodeBackoff } from './task-options';

describe('backoff encoding (the backoff part of the task field `opts`, read by recover.lua too)', () => {
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

describe('decodeTaskOptions (the task field `opts`: <timeout_ms>|<backoff>)', () => {
  it.each<[string | undefined, object]>([
    [undefined, {}],
    ['', {}],
    ['|', {}],
    ['5000|', { timeoutMs: 5000 }],
    ['|f:10:20:1', { backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 20, jitter: true } }],
    ['1|e:1000:3600000:0', { timeoutMs: 1, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 3_600_000, jitter: false } }],
    ['x|y', {}],
  ])('%p -> %p', (opts, expected) => {
    expect(decodeTaskOptions(opts)).toEqual(expected);
  });
});
