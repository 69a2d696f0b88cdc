import { RedisConnections } from '../../src/queue/redis-connections';
import { TaskEvent, TaskEventBus } from '../../src/queue/task-event-bus';
import { QueueHarness, silentLogger } from '../support/queue-harness';
import { waitFor } from '../support/wait';

/** TaskEventBus against a real Redis: one lazy subscription, fan-out by task id, resync after a reconnect. */
describe('TaskEventBus', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  const subscribers = async (channel: string) => ((await harness.redis.pubsub('NUMSUB', channel)) as [string, number])[1];

  it('subscribes on the first watch, delivers each message to the listeners of its task only, unsubscribes when idle', async () => {
    const q = harness.queue();
    const bus = new TaskEventBus(harness.connections, q.repo);
    bus.unsubscribeAfterMs = 50;
    const channel = q.keys.eventsChannel;
    expect(await subscribers(channel)).toBe(0);

    const a: TaskEvent[] = [];
    const b: TaskEvent[] = [];
    const wa = bus.watch('a', (e) => a.push(e));
    const wa2 = bus.watch('a', (e) => a.push(e));
    const wb = bus.watch('b', (e) => b.push(e));
    await Promise.all([wa.ready, wa2.ready, wb.ready]);
    expect(await subscribers(channel)).toBe(1);
    expect(bus.watchedTasks).toBe(2);
    expect(bus.listenerCount).toBe(3);

    await harness.redis.publish(channel, 'a|processing|1');
    // A script publishes every transition of its call as lines of one message.
    await harness.redis.publish(channel, 'b|processing|4\nc|failed|1\na|bogus|1\ngarbage\nb|completed|4');
    await waitFor(() => (a.length === 2 && b.length === 2 ? true : undefined));
    expect(a).toEqual([
      { id: 'a', name: 'processing', attempt: 1 },
      { id: 'a', name: 'processing', attempt: 1 },
    ]);
    expect(b).toEqual([
      { id: 'b', name: 'processing', attempt: 4 },
      { id: 'b', name: 'completed', attempt: 4 },
    ]);

    wa.stop();
    wa.stop();
    expect(bus.listenerCount).toBe(2);
    wa2.stop();
    wb.stop();
    expect(bus.watchedTasks).toBe(0);
    await waitFor(async () => ((await subscribers(channel)) === 0 ? true : undefined), { what: 'the idle unsubscribe' });
    expect(bus.subscribed).toBe(false);

    // And subscribes again on the next watch.
    const again = bus.watch('a', () => undefined);
    await again.ready;
    expect(await subscribers(channel)).toBe(1);
    again.stop();
    bus.onApplicationShutdown();
  });

  it('after its connection is dropped, subscribes again and tells every listener to re-read (resync)', async () => {
    const q = harness.queue();
    // Its own connections, so the events connection's id is known before it subscribes.
    const connections = new RedisConnections(q.config, silentLogger);
    const bus = new TaskEventBus(connections, q.repo);
    const clientId = await connections.events.client('ID');
    const seen: TaskEvent[] = [];
    const watch = bus.watch('a', (e) => seen.push(e));
    try {
      await watch.ready;
      await harness.redis.client('KILL', 'ID', String(clientId));
      await waitFor(() => (seen.some((e) => e.name === 'resync') ? true : undefined), { what: 'a resync', timeoutMs: 15_000 });
      expect(seen).toEqual([{ id: 'a', name: 'resync' }]);
      await harness.redis.publish(q.keys.eventsChannel, 'a|completed|1');
      await waitFor(() => (seen.length === 2 ? true : undefined));
      expect(seen[1]).toEqual({ id: 'a', name: 'completed', attempt: 1 });
    } finally {
      watch.stop();
      bus.onApplicationShutdown();
      await connections.onApplicationShutdown();
    }
  });
});
