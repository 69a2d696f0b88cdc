import { DeadlineTimers } from './deadline-timers';

describe('DeadlineTimers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const target = (name: string, fired: string[]) => ({ onDeadline: () => fired.push(name) });

  it('fires each deadline at its time, in order, with one Node timer per duration', () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    timers.add(100, target('a', fired));
    jest.advanceTimersByTime(30);
    timers.add(100, target('b', fired));
    timers.add(50, target('short', fired));
    expect(jest.getTimerCount()).toBe(2);

    jest.advanceTimersByTime(49);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1); // t = 80
    expect(fired).toEqual(['short']);
    jest.advanceTimersByTime(19); // t = 99
    expect(fired).toEqual(['short']);
    jest.advanceTimersByTime(1); // t = 100
    expect(fired).toEqual(['short', 'a']);
    jest.advanceTimersByTime(29); // t = 129
    expect(fired).toEqual(['short', 'a']);
    jest.advanceTimersByTime(1); // t = 130
    expect(fired).toEqual(['short', 'a', 'b']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a cancelled deadline never fires, wherever it is in its list; cancelling twice or after it fired does nothing', () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    const a = timers.add(100, target('a', fired));
    jest.advanceTimersByTime(10);
    const b = timers.add(100, target('b', fired));
    jest.advanceTimersByTime(10);
    const c = timers.add(100, target('c', fired));
    timers.cancel(b);
    timers.cancel(a);
    timers.cancel(a);

    jest.advanceTimersByTime(200);
    expect(fired).toEqual(['c']);
    timers.cancel(c);
    timers.cancel(b);
    expect(fired).toEqual(['c']);
  });

  it('a list left empty clears its timer, so nothing keeps the process alive; a new deadline sets it again', () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    const a = timers.add(1000, target('a', fired));
    const b = timers.add(1000, target('b', fired));
    timers.cancel(b);
    expect(jest.getTimerCount()).toBe(1);
    timers.cancel(a);
    expect(jest.getTimerCount()).toBe(0);

    timers.add(1000, target('c', fired));
    jest.advanceTimersByTime(1000);
    expect(fired).toEqual(['c']);
  });

  it('what one target throws does not keep the others due at the same time from firing', () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    const thrown: unknown[] = [];
    const realQueueMicrotask = global.queueMicrotask;
    global.queueMicrotask = (fn) => {
      try {
        fn();
      } catch (err) {
        thrown.push(err);
      }
    };
    try {
      timers.add(10, {
        onDeadline: () => {
          throw new Error('boom');
        },
      });
      timers.add(10, target('after', fired));
      jest.advanceTimersByTime(10);
    } finally {
      global.queueMicrotask = realQueueMicrotask;
    }
    expect(fired).toEqual(['after']);
    expect(thrown).toEqual([new Error('boom')]);
  });
  it('a step of the wall clock moves no deadline (times are monotonic, like Node timers)', () => {
    const timers = new DeadlineTimers();
    const fired: string[] = [];
    timers.add(100, target('a', fired));
    jest.advanceTimersByTime(50);
    timers.add(100, target('b', fired)); // due at t = 150
    jest.setSystemTime(Date.now() + 60_000); // the wall clock jumps a minute ahead
    jest.advanceTimersByTime(50); // t = 100
    expect(fired).toEqual(['a']);
    jest.advanceTimersByTime(49);
    expect(fired).toEqual(['a']);
    jest.advanceTimersByTime(1); // t = 150
    expect(fired).toEqual(['a', 'b']);
  });

  it('a duration whose list empties is forgotten, however many distinct durations clients send', () => {
    const timers = new DeadlineTimers();
    const lists = timers['lists'];
    const fired: string[] = [];
    const cancelled = Array.from({ length: 500 }, (_, i) => timers.add(1000 + i, target(`c${i}`, fired)));
    for (let i = 0; i < 500; i += 1) timers.add(5000 + i, target(`f${i}`, fired));
    expect(lists.size).toBe(1000);
    for (const d of cancelled) timers.cancel(d);
    expect(lists.size).toBe(500);
    jest.advanceTimersByTime(6000);
    expect(fired).toHaveLength(500);
    expect(lists.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
