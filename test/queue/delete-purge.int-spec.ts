import { TaskNotFoundError } from '../../src/queue/queue-errors';
import { MAX_STALLS } from '../../src/queue/task-limits';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';
import { waitFor } from '../support/wait';

type State = 'pending' | 'delayed' | 'running' | 'completed' | 'failed';

/** Brings task `id` (type 'job') into a state, through the scripts only. */
async function arrange(q: QueueFixture, id: string, state: State): Promise<void> {
  await q.repo.enqueue([newTask({ id, type: 'job' })]);
  if (state === 'pending') return;
  const [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
  if (t.id !== id) throw new Error(`leased ${t.id}, wanted ${id}`);
  await q.repo.start(t);
  if (state === 'delayed') await q.repo.retry(t, 'boom', 60_000);
  if (state === 'completed') await q.repo.complete(t, 'ok');
  if (state === 'failed') await q.repo.fail(t, 'boom');
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
      await q.repo.enqueue([newTask({ id: 'bystander', type: 'job' })]);
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
        const [t] = await q.leased(1, { id: 'run' });

        await q.repo.delete(t.id);

        await waitFor(() => (heard.length > 0 ? true : undefined), { timeoutMs: 5000, what: 'cancel message' });
        expect(heard).toEqual([t.id]);
        await expect(q.repo.start(t)).rejects.toBeInstanceOf(TaskNotFoundError);
        await expect(q.repo.complete(t, 'late')).rejects.toBeInstanceOf(TaskNotFoundError);
        await expect(q.repo.retry(t, 'late', 10)).rejects.toBeInstanceOf(TaskNotFoundError);
        expect(await q.repo.heartbeat([t], LEASE_MS)).toEqual([{ id: t.id, token: t.token }]);
        expect(await q.repo.recoverExpired(10, 'x', [1], MAX_STALLS)).toEqual([]);
        expect(await q.footprint(t.id)).toEqual([]);
      } finally {
        await unsubscribe();
      }
    });

    it('a deleted pending task is never leased', async () => {
      const q = harness.queue();
      await q.repo.enqueue([newTask({ id: 'a' }), newTask({ id: 'b' })]);
      await q.repo.delete('a');
      expect((await q.repo.fetch(10, LEASE_MS)).tasks.map((t) => t.id)).toEqual(['b']);
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

  describe('purgeExpired', () => {
    /**
     * Finished tasks that finished 30 s (c30, completed), 20 s (f20, failed) and 10 s (c10, completed)
     * before Redis' now, and unfinished ones. Finish times are moved back in the hash and the status
     * index (finishedAgo): the script reads the clock, so a spec moves the data instead.
     */
    async function seed(q: QueueFixture): Promise<void> {
      const finish = [
        { id: 'c30', ago: 30_000, how: 'complete' },
        { id: 'f20', ago: 20_000, how: 'fail' },
        { id: 'c10', ago: 10_000, how: 'complete' },
      ];
      await q.repo.enqueue(finish.map((f) => newTask({ id: f.id, type: 'job' })));
      const leased = (await q.repo.fetch(3, LEASE_MS)).tasks;
      const now = await q.redisNow();
      for (const f of finish) {
        const lease = leased.find((l) => l.id === f.id);
        if (!lease) throw new Error(`not leased: ${f.id}`);
        if (f.how === 'complete') await q.repo.complete(lease, 'ok');
        else await q.repo.fail(lease, 'boom');
        await q.finishedAgo(f.id, f.ago, now);
      }
      await q.repo.enqueue([newTask({ id: 'running', type: 'job' })]);
      await q.repo.fetch(1, LEASE_MS);
      await arrange(q, 'delayed', 'delayed');
      await q.repo.enqueue([newTask({ id: 'pending', type: 'job' })]);
    }

    const UNFINISHED = ['running', 'pending', 'delayed'];

    it.each([
      { retentionMs: 35_000, removed: [] as string[] },
      { retentionMs: 25_000, removed: ['c30'] },
      { retentionMs: 15_000, removed: ['c30', 'f20'] },
      { retentionMs: 0, removed: ['c30', 'f20', 'c10'] },
    ])('with retention $retentionMs ms removes $removed with their index entries', async ({ retentionMs, removed }) => {
      const q = harness.queue();
      await seed(q);
      const kept = ['c30', 'f20', 'c10', ...UNFINISHED].filter((id) => !removed.includes(id));
      const keptBefore = await Promise.all(kept.map(async (id) => [await q.hash(id), await q.footprint(id)]));

      expect(await q.repo.purgeExpired(retentionMs, 100)).toBe(removed.length);

      for (const id of removed) expect(await q.footprint(id)).toEqual([]);
      expect(await Promise.all(kept.map(async (id) => [await q.hash(id), await q.footprint(id)]))).toEqual(keptBefore);
    });

    it('removes at most `limit` per call, oldest first in s:completed, then in s:failed', async () => {
      const q = harness.queue();
      await seed(q);
      expect(await q.repo.purgeExpired(0, 2)).toBe(2);
      expect(await q.redis.zrange(q.keys.byStatus('completed'), 0, -1)).toEqual([]);
      expect(await q.redis.zrange(q.keys.byStatus('failed'), 0, -1)).toEqual(['f20']);
      expect(await q.repo.purgeExpired(0, 2)).toBe(1);
      expect(await q.repo.purgeExpired(0, 2)).toBe(0);
      // Hash, stage zset and, for a delayed task, its listing index; a running task has none (`active`
      // lists it), nor does a task queued at its creation time (its queue zset does).
      for (const id of UNFINISHED) expect((await q.footprint(id)).length).toBe(id === 'delayed' ? 3 : 2);
    });

    it('never deletes an unfinished task, even through a stray entry in s:completed or s:failed', async () => {
      const q = harness.queue();
      await seed(q);
      const before = Object.fromEntries(
        await Promise.all(UNFINISHED.map(async (id) => [id, [await q.hash(id), await q.footprint(id)]])),
      );
      for (const id of UNFINISHED) await q.redis.zadd(q.keys.byStatus('completed'), 1000, id);
      for (const id of UNFINISHED) await q.redis.zadd(q.keys.byStatus('failed'), 1000, id);

      await q.repo.purgeExpired(0, 100);

      const after = Object.fromEntries(
        await Promise.all(UNFINISHED.map(async (id) => [id, [await q.hash(id), await q.footprint(id)]])),
      );
      expect(after).toEqual(before);
      expect(await q.redis.exists(q.keys.byStatus('completed'), q.keys.byStatus('failed'))).toBe(0);
    });

    it('counts retention from the finish time when an entry is scored by creation time (a process of the old version)', async () => {
      const q = harness.queue();
      await seed(q);
      const now = await q.redisNow();
      // c10 finished 10 s ago, but its entry says 40 s ago (its creation, say); c30 likewise 50 s ago.
      await q.redis.zadd(q.keys.byStatus('completed'), 'XX', now - 40_000, 'c10');
      await q.redis.zadd(q.keys.byStatus('completed'), 'XX', now - 50_000, 'c30');

      expect(await q.repo.purgeExpired(25_000, 100)).toBe(2);

      // c30 finished before the cutoff: removed. c10 did not: kept, its entry now at its finish time.
      expect(await q.footprint('c30')).toEqual([]);
      expect(await q.score(q.keys.byStatus('completed'), 'c10')).toBe(Number((await q.hash('c10')).updated_at));
      expect(await q.repo.purgeExpired(25_000, 100)).toBe(0);
      expect(await q.repo.get('c10')).toBeDefined();
    });
  });
});
