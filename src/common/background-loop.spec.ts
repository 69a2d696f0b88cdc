import { BackgroundLoop } from './background-loop';

class Lines {
  readonly errors: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  error(fields: object, msg: string): void {
    this.errors.push({ fields: fields as Record<string, unknown>, msg });
  }
}

describe('BackgroundLoop', () => {
  it('runs its tick at its interval until stopped, and stop waits for a tick in progress', async () => {
    let ticks = 0;
    let release: () => void = () => undefined;
    const loop = new BackgroundLoop('t', 5, async () => {
      ticks += 1;
      if (ticks === 3) await new Promise<void>((r) => (release = r));
    }, new Lines());
    loop.start();
    while (ticks < 3) await new Promise((r) => setTimeout(r, 5));
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    const after = ticks;
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toBe(after);
  });

  it('a failing tick is logged once per interval with a suppressed count, and the loop goes on', async () => {
    const lines = new Lines();
    let ticks = 0;
    const loop = new BackgroundLoop('t', 1, () => {
      ticks += 1;
      return Promise.reject(new Error('boom'));
    }, lines, () => false, 60_000);
    for (let i = 0; i < 5; i += 1) await loop.runOnce();
    expect(ticks).toBe(5);
    expect(lines.errors).toHaveLength(1);
    expect(lines.errors[0]).toMatchObject({ msg: 't tick failed; retrying every 1 ms', fields: { loop: 't', err: 'boom', suppressed: 0 } });
  });

  it('a tick that resolves to a delay sleeps that long instead of the interval', async () => {
    jest.useFakeTimers();
    try {
      let ticks = 0;
      const loop = new BackgroundLoop('t', 1000, () => {
        ticks += 1;
        return Promise.resolve(ticks < 3 ? 10 : undefined);
      }, new Lines());
      loop.start();
      await jest.advanceTimersByTimeAsync(1000);
      expect(ticks).toBe(1);
      await jest.advanceTimersByTimeAsync(10);
      expect(ticks).toBe(2);
      await jest.advanceTimersByTimeAsync(10);
      expect(ticks).toBe(3);
      // No delay asked for: the interval again.
      await jest.advanceTimersByTimeAsync(999);
      expect(ticks).toBe(3);
      await jest.advanceTimersByTimeAsync(1);
      expect(ticks).toBe(4);
      await loop.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('failures reported elsewhere (a Redis outage) are not logged by the loop', async () => {
    const lines = new Lines();
    const loop = new BackgroundLoop('t', 1, () => Promise.reject(new Error('outage')), lines, () => true);
    await loop.runOnce();
    expect(lines.errors).toEqual([]);
  });

  it('a success resets the reporter: the next failure is logged at once', async () => {
    const lines = new Lines();
    let fail = true;
    const loop = new BackgroundLoop('t', 1, () => (fail ? Promise.reject(new Error('x')) : Promise.resolve()), lines, () => false, 60_000);
    await loop.runOnce();
    fail = false;
    await loop.runOnce();
    fail = true;
    await loop.runOnce();
    expect(lines.errors).toHaveLength(2);
  });
});
