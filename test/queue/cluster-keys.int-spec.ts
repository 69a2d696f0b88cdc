import { keysByPrefix } from '../support/redis';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { LEASE_MS, newTask, QueueHarness } from '../support/queue-harness';

/** The Redis Cluster hash tag of a key: the text between the first '{' and the next '}', if not empty. */
function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

describe('Cluster compatibility of the key layout', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('hashTag helper finds the tag Redis Cluster would use', () => {
    expect(hashTag('p:{default}:t:x')).toBe('default');
    expect(hashTag('p:{}:t:{default}')).toBeUndefined();
    expect(hashTag('p:queue')).toBeUndefined();
  });

  it('every key any script creates under the prefix carries the same {default} hash tag', async () => {
    const q = harness.queue();
    // Drive every script so each kind of key exists at least once.
    await q.repo.enqueue(
      [
        newTask({ id: 'a', type: 'email' }),
        newTask({ id: 'b', type: 'sms' }),
        newTask({ id: 'c', type: 'report:v2' }),
        newTask({ id: 'd', type: 'email' }),
        newTask({ id: 'e', type: 'email' }),
        newTask({ id: 'f', type: 'email', maxRetry: 0 }),
      ],
    );
    const leased = (await q.repo.fetch(6, LEASE_MS)).tasks;
    const lease = (id: string) => leased.find((t) => t.id === id) ?? { id, token: 0 };
    await q.repo.heartbeat(leased, LEASE_MS);
    await q.repo.settle(leased.map((t) => ({ lease: t, mode: 'start' as const, text: '' })));
    await q.repo.complete(lease('a'), 'ok');
    await q.repo.fail(lease('b'), 'boom');
    await q.repo.retry(lease('c'), 'again', 60_000);
    await q.repo.requeue(lease('d'));
    await q.expire('e', 'f');
    await q.repo.recoverExpired(10, 'lease expired: worker lost', [1000], MAX_STALLS);
    await q.repo.enqueue([newTask({ id: 'g', type: 'push' })]);
    await q.repo.fetch(1, LEASE_MS);
    await q.repo.list({}, 10);
    await q.repo.list({ status: 'pending', type: 'email' }, 10);
    await q.repo.delete('g');
    await q.repo.purgeExpired(60_000, 10);

    const keys = await keysByPrefix(q.redis, q.prefix);
    const kinds = new Set(keys.map((k) => q.rel(k).split(':')[0]));
    expect([...kinds].sort()).toEqual(['active', 'marker', 'queue', 's', 'stat', 't']);
    expect(keys.length).toBeGreaterThan(12);

    const offenders = keys.filter((k) => hashTag(k) !== 'default' || !k.startsWith(`${q.prefix}:{default}:`));
    expect(offenders).toEqual([]);
    expect(q.keys.cancelChannel).toContain('{default}');
  });
});
