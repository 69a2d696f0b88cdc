import type { FetchResult, QueueRepository } from '../queue/queue.repository';
import type { LeasedTask } from '../queue/task.model';
import { fetchOrder, ServedQueues } from './served-queues';
import { leased, RecordingLogger } from './testing/fakes';

/** A RandomSource that answers the given values in turn. */
const scripted = (...values: number[]) => ({ next: () => values.shift() ?? 0 });

const WEIGHTS = [
  { name: 'critical', weight: 6 },
  { name: 'default', weight: 3 },
  { name: 'low', weight: 1 },
];

describe('fetchOrder', () => {
  it('strict: the configured order, whatever the randomness', () => {
    expect(fetchOrder(WEIGHTS, true, scripted(0.99, 0.99))).toEqual(['critical', 'default', 'low']);
  });

  it.each([
    // First draw over 10 (6 | 3 | 1), second over what is left.
    [[0, 0], ['critical', 'default', 'low']],
    [[0.59, 0.99], ['critical', 'low', 'default']],
    [[0.6, 0], ['default', 'critical', 'low']],
    [[0.89, 0.9], ['default', 'low', 'critical']],
    [[0.9, 0], ['low', 'critical', 'default']],
    [[0.95, 0.7], ['low', 'default', 'critical']],
  ])('weighted: random %j gives %j', (draws, order) => {
    expect(fetchOrder(WEIGHTS, false, scripted(...draws))).toEqual(order);
  });

  it('weighted: over evenly spread draws each queue comes first in proportion to its weight, and none is ever left out', () => {
    const n = 1000;
    const first: Record<string, number> = {};
    for (let i = 0; i < n; i += 1) {
      const order = fetchOrder(WEIGHTS, false, scripted(i / n, (i * 7919) % n / n));
      expect([...order].sort()).toEqual(['critical', 'default', 'low']);
      first[order[0]] = (first[order[0]] ?? 0) + 1;
    }
    expect(first).toEqual({ critical: 600, default: 300, low: 100 });
  });
});

/** A repository whose queues hold the given tasks; fetch takes up to `max` of one queue. */
function fakeQueues(tasks: Record<string, LeasedTask[]>, names: string[] = Object.keys(tasks)) {
  const fetches: Array<{ queue: string; max: number; maxBytes: number }> = [];
  const waits: string[][] = [];
  const repo = {
    fetch: (max: number, _leaseMs: number, maxBytes: number, queue: string): Promise<FetchResult> => {
      fetches.push({ queue, max, maxBytes });
      const taken = (tasks[queue] ?? []).splice(0, max);
      return Promise.resolve({ tasks: taken, nextRunInMs: queue === 'later' ? 500 : undefined });
    },
    waitForWork: (_ms: number, _stop: AbortSignal, queues: string[]) => {
      waits.push(queues);
      return Promise.resolve();
    },
    whenConnected: () => Promise.resolve(),
    queueNames: () => Promise.resolve(names),
  };
  return { repo: repo as unknown as QueueRepository, fetches, waits };
}

describe('ServedQueues', () => {
  const logger = new RecordingLogger();

  it('a round leases from the queues in its order until the room is filled', async () => {
    const q = fakeQueues({ critical: [leased('c1'), leased('c2')], default: [leased('d1'), leased('d2')], low: [leased('l1')] });
    const served = new ServedQueues(q.repo, { weighted: WEIGHTS, strict: true }, scripted(), logger);
    const { tasks } = await served.fetch(3, 1000);
    expect(tasks.map((t) => t.id)).toEqual(['c1', 'c2', 'd1']);
    expect(q.fetches.map((f) => [f.queue, f.max])).toEqual([
      ['critical', 3],
      ['default', 1],
    ]);
  });

  it('with nothing leased it has read every queue and reports the earliest next run; the wait covers every served queue', async () => {
    const q = fakeQueues({ critical: [], later: [], low: [] });
    const served = new ServedQueues(q.repo, { weighted: [{ name: 'critical', weight: 1 }, { name: 'later', weight: 1 }, { name: 'low', weight: 1 }], strict: false }, scripted(0.5, 0.5), logger);
    expect(await served.fetch(10, 1000)).toEqual({ tasks: [], nextRunInMs: 500 });
    expect(q.fetches.map((f) => f.queue).sort()).toEqual(['critical', 'later', 'low']);
    await served.waitForWork(1000, new AbortController().signal);
    expect(q.waits).toEqual([['critical', 'later', 'low']]);
  });

  it('shares the byte budget among the queues of a round', async () => {
    const big = { ...leased('a1'), payload: 'x'.repeat(60) };
    const q = fakeQueues({ a: [big], b: [leased('b1')] });
    const served = new ServedQueues(q.repo, { weighted: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }], strict: true }, scripted(), logger);
    await served.fetch(10, 1000, 100);
    expect(q.fetches.map((f) => [f.queue, f.maxBytes])).toEqual([
      ['a', 100],
      ['b', 40],
    ]);
  });

  it('with WORKER_QUEUES unset serves default, then every queue the registry names, and tells listeners of new ones', async () => {
    const names = ['default'];
    const q = fakeQueues({}, names);
    const served = new ServedQueues(q.repo, { strict: false }, scripted(), logger);
    const heard: string[][] = [];
    served.onChange((n) => heard.push([...n]));
    expect(served.names).toEqual(['default']);
    names.push('emails');
    await served.discover();
    await served.discover();
    expect(served.names).toEqual(['default', 'emails']);
    expect(heard).toEqual([['default', 'emails']]);
  });

  it('a queue announced on the registry channel is joined at once and ends the wait in progress; the next wait covers it', async () => {
    const names = ['default'];
    const waits: Array<{ queues: readonly string[]; wake?: AbortSignal }> = [];
    let announce: ((name: string) => void) | undefined;
    const repo = {
      ...fakeQueues({}, names).repo,
      waitForWork: (_ms: number, _stop: AbortSignal, queues: readonly string[], wake?: AbortSignal) => {
        waits.push({ queues: [...queues], wake });
        return new Promise<void>((resolve) => wake?.addEventListener('abort', () => resolve(), { once: true }));
      },
      onQueueAdded: (listener: (name: string) => void) => {
        announce = listener;
        return () => (announce = undefined);
      },
    } as unknown as QueueRepository;
    const served = new ServedQueues(repo, { strict: false }, scripted(), logger);
    const changed = new Promise<readonly string[]>((resolve) => served.onChange((n) => n.includes('fresh') && resolve(n)));
    served.start();
    await served.discovery?.stop();
    const waiting = served.waitForWork(60_000, new AbortController().signal);
    expect(waits).toHaveLength(1);
    expect(waits[0].queues).toEqual(['default']);

    names.push('fresh');
    announce?.('fresh');
    await waiting;
    expect(waits[0].wake?.aborted).toBe(true);
    expect(await changed).toEqual(['default', 'fresh']);
    void served.waitForWork(60_000, new AbortController().signal);
    expect(waits[1].queues).toEqual(['default', 'fresh']);

    await served.stop();
    expect(announce).toBeUndefined();
  });
});
