import { PrefetchPolicy } from './prefetch-policy';

describe('PrefetchPolicy', () => {
  it('holds one task per slot until a duration is known', () => {
    expect(new PrefetchPolicy(100, 3).size).toBe(3);
    expect(new PrefetchPolicy(2, 3).size).toBe(2);
  });

  it('is 0 when prefetching is off, whatever the durations', () => {
    const p = new PrefetchPolicy(0, 8);
    p.record(0);
    expect(p.size).toBe(0);
  });

  it('grows to the maximum for instant tasks', () => {
    const p = new PrefetchPolicy(100, 1);
    for (let i = 0; i < 10; i += 1) p.record(0);
    expect(p.size).toBe(100);
  });

  it('shrinks to nothing for long tasks, so they are not hoarded', () => {
    const p = new PrefetchPolicy(100, 3);
    p.record(5000);
    expect(p.size).toBe(0);
  });

  it.each([
    [1, 1, 20],
    [2, 4, 40],
    [10, 5, 10],
    [25, 1, 0],
  ])('holds about 20 ms of work per slot: %d ms tasks, %d slots -> %d', (ms, slots, expected) => {
    const p = new PrefetchPolicy(1000, slots);
    p.record(ms);
    expect(p.size).toBe(expected);
  });

  it('follows a change of task duration as a moving average', () => {
    const p = new PrefetchPolicy(100, 1);
    p.record(1);
    expect(p.size).toBe(20);
    for (let i = 0; i < 50; i += 1) p.record(1000);
    expect(p.size).toBe(0);
    for (let i = 0; i < 100; i += 1) p.record(0);
    expect(p.size).toBe(100);
  });
});
