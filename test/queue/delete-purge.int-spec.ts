import { TaskNotFoundError } from '../../src/queue/queue-errors';
import { LEASE_MS, newTask, QueueFixture, QueueHarness, T0 } from '../support/queue-harness';
import { waitFor } from '../support/wait';

type State = 'pending' | 'delayed' | 'running' | 'completed' | 'failed';

/** Brings task `id` (type 'job') into a state, through the scripts only. */
async function arrange(q: QueueFixture, id: string, state: State): Promise<void> {
  await q.repo.enqueue([newTask({ id, type: 'job' })], T0);
  if (state === 'pending') return;
  const [t] = (await q.repo.fetch(1, T0, T0 + LEASE_MS)).tasks;
  if (t.id !== id) throw new Error(`leased ${t.id}, wanted ${id}`);
  if (state === 'delayed') await q.repo.retry(t, 'boom', T0 + 1, T0 + 60_000);
  if (state === 'completed') await q.repo.complete(t, 'ok', T0 + 1);
  if (state === 'failed') await q.repo.fail(t, 'boom', T0 + 1);
}

describe('delete.lua and purge-expired.lua', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  describe('delete', () => {
    it.each<{ state: State; cancels: boolean }>([
      { state: 'pending', cancels: false },
      { state: 'delayed', cancels: false },
      { state: 'running', cancels: true },
      { state: 'completed', cancels: false },
      { state: 'failed', cancels: false },
    ])('removes a $state task from every key and index', async ({ state, cancels }) => {
      const q = harness.queue();
      const sub = harness.client();
      const heard: string[] = [];
      sub.on('message', (channel: string, message: string) => {
        if (channel === q.keys.cancelChannel) heard.push(message);
      });
      await sub.subscribe(q.keys.cancelChannel);
      await arrange(q, 'victim', state);
      await q.repo.enqueue([newTask({ id: 'bystander', type: 'job' })], T0 + 2);
      expect((await q.footprint('victim')).length).toBeGreaterThan(0);
      const bystanderBefore = await q.footprint('bystander');

      await q.repo.delete('victim');

      expect(await q.footprint('victim')).toEqual([]);
      expect(await q.repo.get('victim')).toBeUndefined();
      expect((await q.allKeys()).filter((k) => k.includes('victim'))).toEqual([]);
      expect(await q.footprint('bystander')).toEqual(bystanderBefore);
      // A sentinel published after the delete arrives after any cancel message the delete sent.
      await harness.redis.publish(q.keys.cancelChannel, 'sentinel');
      await waitFor(() => (heard.includes('sentinel') ? true : undefined), { timeoutMs: 5000, what: 'sentinel' });
      expect(heard).toEqual(cancels ? ['victim', 'sentinel'] : ['sentinel']);
    });

    it('tells the worker of a running task through onCancel, and its late writes do not recreate the task', async () => {
      const q = harness.queue();
      const heard: string[] = [];
      const unsubscribe = q.repo.onCancel((id) => heard.push(id));
      try {
        // onCancel does not wait for the subscription; wait until Redis has it, or the message is lost.
        await waitFor(
          async () => {
            const [, count] = (await harness.redis.pubsub('NUMSUB', q.keys.cancelChannel)) as [string, number];
            return Number(count) > 0 ? true : undefined;
          },
          { timeoutMs: 5000, what: 'subscription' },
        );
        const [t] = await q.leased(1, T0, { id: 'run' });

        await q.repo.delete(t.id);

        await waitFor(() => (heard.length > 0 ? true : undefined), { timeoutMs: 5000, what: 'cancel message' });
        expect(heard).toEqual([t.id]);
        await expect(q.repo.complete(t, 'late', T0 + 10)).rejects.toBeInstanceOf(TaskNotFoundError);
        await expect(q.repo.retry(t, 'late', T0 + 10, T0 + 20)).rejects.toBeInstanceOf(TaskNotFoundError);
        expect(await q.repo.heartbeat([t], T0 + LEASE_MS)).toEqual([t.id]);
        expect(await q.repo.recoverExpired(T0 + 10 * LEASE_MS, 10, 'x', [1])).toEqual([]);
        expect(await q.footprint(t.id)).toEqual([]);
      } finally {
        await unsubscribe();
      }
    });

    it('a deleted pending task is never leased', async () => {
      const q = harness.queue();
      await q.repo.enqueue([newTask({ id: 'a' }), newTask({ id: 'b' })], T0);
      await q.repo.delete('a');
      expect((await q.repo.fetch(10, T0, T0 + LEASE_MS)).tasks.map((t) => t.id)).toEqual(['b']);
    });

    it('rejects a missing id with TaskNotFoundError, also the second time, and creates nothing', async () => {
      const q = harness.queue();
      await expect(q.repo.delete('never-was')).rejects.toBeInstanceOf(TaskNotFoundError);
      expect(await q.allKeys()).toEqual([]);
      await arrange(q, 'once', 'completed');
      await q.repo.delete('once');
      await expect(q.repo.delete('once')).rejects.toBeInstanceOf(TaskNotFoundError);
      expect(await q.footprint('once')).toEqual([]);
    });
  });

  describe('purgeFinishedBefore', () => {
    /** Finished tasks at T0+100 (completed), T0+200 (failed), T0+300 (completed), and unfinished ones. */
    async function seed(q: QueueFixture): Promise<void> {
      const finish = [
        { id: 'c100', at: T0 + 100, how: 'complete' },
        { id: 'f200', at: T0 + 200, how: 'fail' },
        { id: 'c300', at: T0 + 300, how: 'complete' },
      ];
      await q.repo.enqueue(finish.map((f) => newTask({ id: f.id, type: 'job' })), T0);
      const leased = (await q.repo.fetch(3, T0, T0 + LEASE_MS)).tasks;
      for (const f of finish) {
        const lease = leased.find((l) => l.id === f.id);
        if (!lease) throw new Error(`not leased: ${f.id}`);
        if (f.how === 'complete') await q.repo.complete(lease, 'ok', f.at);
        else await q.repo.fail(lease, 'boom', f.at);
      }
      await q.repo.enqueue([newTask({ id: 'running', type: 'job' })], T0 + 1);
      await q.repo.fetch(1, T0 + 1, T0 + 1 + LEASE_MS);
      await q.repo.enqueue([newTask({ id: 'pending', type: 'job' })], T0 + 2);
      await arrange(q, 'delayed', 'delayed');
    }

    const UNFINISHED = ['running', 'pending', 'delayed'];

    it.each([
      { offset: 99, removed: [] as string[] },
      { offset: 100, removed: ['c100'] },
      { offset: 250, removed: ['c100', 'f200'] },
      { offset: 10_000_000, removed: ['c100', 'f200', 'c300'] },
    ])('with cutoff T0+$offset removes $removed with their index entries', async ({ offset, removed }) => {
      const cutoff = T0 + offset;
      const q = harness.queue();
      await seed(q);
      const kept = ['c100', 'f200', 'c300', ...UNFINISHED].filter((id) => !removed.includes(id));
      const keptBefore = await Promise.all(kept.map(async (id) => [await q.hash(id), await q.footprint(id)]));

      expect(await q.repo.purgeFinishedBefore(cutoff, 100)).toBe(removed.length);

      for (const id of removed) expect(await q.footprint(id)).toEqual([]);
      expect(await Promise.all(kept.map(async (id) => [await q.hash(id), await q.footprint(id)]))).toEqual(keptBefore);
    });

    it('removes at most `limit` per call, oldest first', async () => {
      const q = harness.queue();
      await seed(q);
      expect(await q.repo.purgeFinishedBefore(T0 + 10_000, 2)).toBe(2);
      expect(await q.redis.zrange(q.keys.done, 0, -1)).toEqual(['c300']);
      expect(await q.repo.purgeFinishedBefore(T0 + 10_000, 2)).toBe(1);
      expect(await q.repo.purgeFinishedBefore(T0 + 10_000, 2)).toBe(0);
      for (const id of UNFINISHED) expect((await q.footprint(id)).length).toBe(4);
    });

    it('never deletes an unfinished task, even through a stray done entry', async () => {
      const q = harness.queue();
      await seed(q);
      const before = Object.fromEntries(
        await Promise.all(UNFINISHED.map(async (id) => [id, [await q.hash(id), await q.footprint(id)]])),
      );
      for (const id of UNFINISHED) await q.redis.zadd(q.keys.done, T0, id);

      await q.repo.purgeFinishedBefore(T0 + 10_000_000, 100);

      const after = Object.fromEntries(
        await Promise.all(UNFINISHED.map(async (id) => [id, [await q.hash(id), await q.footprint(id)]])),
      );
      expect(after).toEqual(before);
      expect(await q.redis.exists(q.keys.done)).toBe(0);
    });
  });
});
