import { Fetcher } from './fetcher';
import { LeaseTable } from './lease-table';
import { PrefetchPolicy } from './prefetch-policy';
import { FakeQueue, flush, leased, RecordingLogger } from './testing/fakes';

function fetcher(options: { concurrency?: number; prefetch?: number; maxBufferBytes?: number } = {}) {
  const queue = new FakeQueue();
  const table = new LeaseTable();
  let fetched = 0;
  const f = new Fetcher(
    queue,
    table,
    new PrefetchPolicy(options.prefetch ?? 4, options.concurrency ?? 1),
    { concurrency: options.concurrency ?? 1, leaseMs: 30_000, maxBufferBytes: options.maxBufferBytes ?? 1_000_000 },
    () => 0,
    () => (fetched += 1),
    new RecordingLogger(),
  );
  return { f, queue, table, fetchedCalls: () => fetched };
}

describe('Fetcher', () => {
  it('leases as much as there is room for, adds it to the lease table, and waits for room', async () => {
    const t = fetcher({ concurrency: 1, prefetch: 1 });
    t.queue.push(...['a', 'b', 'c', 'd'].map((id) => leased(id)));
    t.f.start();
    await flush();
    // concurrency 1 + prefetch 1 (one per slot until a duration is known)
    expect(t.queue.fetchSizes).toEqual([2]);
    expect(t.f.buffered).toBe(2);
    expect(t.table.leases().map((l) => l.id)).toEqual(['a', 'b']);
    expect(t.f.take()?.id).toBe('a');
    expect(t.f.take()?.id).toBe('b');
    t.f.wake();
    await flush();
    expect(t.queue.fetchSizes).toEqual([2, 2]);
    await t.f.stop();
  });

  it('asks for no more payload bytes than the buffer has left, and waits when it is full', async () => {
    const t = fetcher({ concurrency: 1, prefetch: 100, maxBufferBytes: 10 });
    const bytesAsked: number[] = [];
    const fetch = t.queue.fetch.bind(t.queue);
    t.queue.fetch = (max: number, _leaseMs?: number, maxBytes?: number) => {
      bytesAsked.push(maxBytes ?? -1);
      return fetch(max);
    };
    t.queue.push(leased('big', 1, { payload: 'x'.repeat(12) }));
    t.f.start();
    await flush();
    t.queue.push(leased('next'));
    await flush();
    // Full (12 of 10 bytes): no second fetch until the big one is taken.
    expect(bytesAsked).toEqual([10]);
    t.f.take();
    t.f.wake();
    await flush();
    expect(bytesAsked).toEqual([10, 10]);
    await t.f.stop();
  });

  it('removes one attempt from the buffer by lease, and hands the rest back on takeAll', async () => {
    const t = fetcher({ concurrency: 2, prefetch: 4 });
    t.queue.push(leased('a'), leased('b', 1), leased('c'));
    t.f.start();
    await flush();
    expect(t.f.remove({ id: 'b', token: 2 })).toBe(false);
    expect(t.f.remove({ id: 'b', token: 1 })).toBe(true);
    expect(t.f.takeAll().map((x) => x.id)).toEqual(['a', 'c']);
    expect(t.f.buffered).toBe(0);
    await t.f.stop();
  });

  it('stop ends a loop blocked waiting for work', async () => {
    const t = fetcher();
    t.f.start();
    await flush();
    expect(t.f.running).toBe(true);
    await t.f.stop();
    expect(t.f.running).toBe(false);
    expect(t.fetchedCalls()).toBe(0);
  });
});
