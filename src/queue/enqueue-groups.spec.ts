import { EnqueueGroups, ENQUEUE_IDEMPOTENCY_REJECTED, PIPELINE_SPLIT_MIN, SubmitResult } from './enqueue-groups';
import { DuplicateTaskIdError, QueueErrorCode, QueueUnavailableError } from './queue-errors';
import { NewTask } from './task.model';

const CREATED_AT = 1_700_000_000_000;

function task(id: string, extra: Partial<NewTask> = {}): NewTask {
  return { id, type: 'echo', payload: 'p', maxRetry: 3, ...extra };
}

interface Call {
  queue: string;
  ttlMs: number;
  ids: string[][];
}

/**
 * A fake enqueue.lua: records each call and answers it with `reply(call)` (default: created, as the
 * script answers a call without idempotency keys).
 */
function fake(reply: (call: Call, n: number) => unknown = () => CREATED_AT) {
  const calls: Call[] = [];
  const groups = new EnqueueGroups(
    (queue, ttlMs, parts) => {
      const call = { queue, ttlMs, ids: parts.map((p) => p.map((t) => t.id)) };
      calls.push(call);
      try {
        return Promise.resolve(reply(call, calls.length));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    5,
    100,
  );
  return { calls, groups };
}

const settled = (p: Promise<SubmitResult>) => p.then((r) => ({ ok: r }), (err: unknown) => ({ err }));

describe('EnqueueGroups (group commit of enqueues)', () => {
  it('sends the submits of one tick to one queue in one call, in order, each answered with its own outcomes', async () => {
    const { calls, groups } = fake();
    const results = await Promise.all([
      groups.submit('default', 1000, [task('a')]),
      groups.submit('default', 1000, [task('b'), task('c')]),
      groups.submit('default', 1000, [task('d')]),
    ]);
    expect(calls).toEqual([{ queue: 'default', ttlMs: 1000, ids: [['a'], ['b', 'c'], ['d']] }]);
    expect(results.map((r) => r.outcomes.map((o) => o.kind))).toEqual([['created'], ['created', 'created'], ['created']]);
    expect(results.every((r) => r.createdAt === CREATED_AT && !r.rejected)).toBe(true);
  });

  it('sends a lone submit at the end of its tick, before any I/O or setImmediate callback', async () => {
    const { calls, groups } = fake();
    const order: string[] = [];
    setImmediate(() => order.push(`immediate: ${calls.length} call(s)`));
    const done = groups.submit('default', 1000, [task('a')]);
    expect(calls).toHaveLength(0);
    await new Promise((resolve) => process.nextTick(resolve));
    order.push(`next tick: ${calls.length} call(s)`);
    await done;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['next tick: 1 call(s)', 'immediate: 1 call(s)']);
  });

  it('after a call of several submits the next ones wait for the I/O of the loop turn; after a lone one, no longer', async () => {
    const { calls, groups } = fake();
    /** When the call of one submit is sent: by the end of its tick, or later in the loop turn. */
    const sentBy = async (id: string) => {
      const done = groups.submit('default', 1000, [task(id)]);
      await new Promise((resolve) => process.nextTick(resolve));
      const byTick = calls.some((c) => c.ids.flat().includes(id));
      await done;
      return byTick ? 'tick' : 'loop turn';
    };
    expect(await sentBy('lone')).toBe('tick');
    await Promise.all([groups.submit('default', 1000, [task('a')]), groups.submit('default', 1000, [task('b')])]);
    expect(await sentBy('after-crowd')).toBe('loop turn');
    expect(await sentBy('lone-again')).toBe('tick');
  });

  it('keeps queues and idempotency lifetimes apart: one call each', async () => {
    const { calls, groups } = fake();
    await Promise.all([
      groups.submit('default', 1000, [task('a')]),
      groups.submit('q2', 1000, [task('q2.b')]),
      groups.submit('default', 5, [task('c')]),
      groups.submit('default', 1000, [task('d')]),
    ]);
    expect(calls).toEqual([
      { queue: 'default', ttlMs: 1000, ids: [['a'], ['d']] },
      { queue: 'q2', ttlMs: 1000, ids: [['q2.b']] },
      { queue: 'default', ttlMs: 5, ids: [['c']] },
    ]);
  });

  it('bounds a call by tasks and payload characters; a larger submit goes alone, never split', async () => {
    const { calls, groups } = fake();
    const big = 'x'.repeat(60);
    await Promise.all([
      groups.submit('default', 1000, [task('a'), task('b'), task('c')]),
      groups.submit('default', 1000, [task('d'), task('e')]),
      groups.submit('default', 1000, [task('f')]),
      groups.submit('default', 1000, [task('g'), task('h'), task('i'), task('j'), task('k'), task('l')]),
      groups.submit('default', 1000, [task('m', { payload: big })]),
      groups.submit('default', 1000, [task('n', { payload: big })]),
    ]);
    expect(calls.map((c) => c.ids)).toEqual([
      [['a', 'b', 'c'], ['d', 'e']],
      [['f']],
      [['g', 'h', 'i', 'j', 'k', 'l']],
      [['m']],
      [['n']],
    ]);
  });

  it('never puts one idempotency key in a call twice: the later submit goes in the next call (a replay of the first)', async () => {
    const { calls, groups } = fake((call) => [CREATED_AT, ...call.ids.flat().map(() => 0)]);
    await Promise.all([
      groups.submit('default', 1000, [task('a', { idempotencyKey: 'k1', requestHash: 'h' })]),
      groups.submit('default', 1000, [task('b', { idempotencyKey: 'k2', requestHash: 'h' })]),
      groups.submit('default', 1000, [task('c', { idempotencyKey: 'k1', requestHash: 'h' })]),
    ]);
    expect(calls.map((c) => c.ids)).toEqual([[['a'], ['b']], [['c']]]);
  });

  it('a key given twice within one submit: same-as counts within that submit', async () => {
    const { groups } = fake(() => [CREATED_AT, 0, 0, 0, 3]);
    const [first, second] = await Promise.all([
      groups.submit('default', 1000, [task('a', { idempotencyKey: 'k0', requestHash: 'h' })]),
      groups.submit('default', 1000, [task('b'), task('c', { idempotencyKey: 'k', requestHash: 'h' }), task('d', { idempotencyKey: 'k', requestHash: 'h' })]),
    ]);
    expect(first.outcomes).toEqual([{ kind: 'created' }]);
    expect(second.outcomes).toEqual([{ kind: 'created' }, { kind: 'created' }, { kind: 'same-as', index: 1 }]);
  });

  it('hands a replay to its own submit', async () => {
    const stored = ['type', 'echo', 'payload', 'old', 'status', 'pending', 'retries', '0', 'max_retry', '3', 'attempts', '0', 'created_at', '5', 'updated_at', '5'];
    const { groups } = fake(() => [CREATED_AT, 0, ['old-id', stored]]);
    const [a, b] = await Promise.all([
      groups.submit('default', 1000, [task('a')]),
      groups.submit('default', 1000, [task('b', { idempotencyKey: 'k', requestHash: 'h' })]),
    ]);
    expect(a).toEqual({ createdAt: CREATED_AT, outcomes: [{ kind: 'created' }], rejected: false });
    expect(b.outcomes).toEqual([{ kind: 'replayed', task: expect.objectContaining({ id: 'old-id', payload: 'old', createdAt: 5 }) }]);
  });

  it('a rejected key answers its own submit only; the others, of which nothing was stored, go again together', async () => {
    const { calls, groups } = fake((call, n) =>
      n === 1 ? [ENQUEUE_IDEMPOTENCY_REJECTED, 0, 'conflict', 0, 'gone'] : [CREATED_AT, ...call.ids.flat().map(() => 0)],
    );
    const keyed = (id: string) => task(id, { idempotencyKey: id, requestHash: 'h' });
    const [a, b, c, d] = await Promise.all([
      groups.submit('default', 1000, [keyed('a')]),
      groups.submit('default', 1000, [keyed('b')]),
      groups.submit('default', 1000, [keyed('c')]),
      groups.submit('default', 1000, [keyed('d')]),
    ]);
    expect(calls.map((x) => x.ids)).toEqual([[['a'], ['b'], ['c'], ['d']], [['a'], ['c']]]);
    expect(b).toEqual({ createdAt: ENQUEUE_IDEMPOTENCY_REJECTED, outcomes: [{ kind: 'conflict' }], rejected: true });
    expect(d).toEqual({ createdAt: ENQUEUE_IDEMPOTENCY_REJECTED, outcomes: [{ kind: 'gone' }], rejected: true });
    expect(a).toEqual({ createdAt: CREATED_AT, outcomes: [{ kind: 'created' }], rejected: false });
    expect(c).toEqual(a);
  });

  it('a duplicate id (nothing stored) sends each submit again alone: only the one at fault gets DuplicateTaskIdError', async () => {
    const { calls, groups } = fake((call) => (call.ids.flat().includes('dup') ? QueueErrorCode.DuplicateId : CREATED_AT));
    const results = await Promise.all([
      settled(groups.submit('default', 1000, [task('a')])),
      settled(groups.submit('default', 1000, [task('b'), task('dup')])),
      settled(groups.submit('default', 1000, [task('c')])),
    ]);
    expect(calls.map((x) => x.ids)).toEqual([[['a'], ['b', 'dup'], ['c']], [['a']], [['b', 'dup']], [['c']]]);
    expect(results[0]).toEqual({ ok: { createdAt: CREATED_AT, outcomes: [{ kind: 'created' }], rejected: false } });
    expect((results[1] as { err: unknown }).err).toBeInstanceOf(DuplicateTaskIdError);
    expect(results[2]).toEqual(results[0]);
  });

  it('a failed call rejects every submit of it with that error, and the next submit is sent anew', async () => {
    const down = new QueueUnavailableError(new Error('connect ECONNREFUSED'));
    const { calls, groups } = fake((_, n) => {
      if (n === 1) throw down;
      return CREATED_AT;
    });
    const results = await Promise.all([1, 2, 3].map((i) => settled(groups.submit('default', 1000, [task(`t${i}`)]))));
    expect(results).toEqual([{ err: down }, { err: down }, { err: down }]);
    await expect(groups.submit('default', 1000, [task('later')])).resolves.toMatchObject({ createdAt: CREATED_AT });
    expect(calls.map((x) => x.ids)).toEqual([[['t1'], ['t2'], ['t3']], [['later']]]);
  });

  it('an unreadable reply rejects every submit of the call', async () => {
    const { groups } = fake(() => [CREATED_AT, 0, 1]);
    const results = await Promise.all([
      settled(groups.submit('default', 1000, [task('a', { idempotencyKey: 'k', requestHash: 'h' })])),
      settled(groups.submit('default', 1000, [task('b', { idempotencyKey: 'k2', requestHash: 'h' })])),
    ]);
    expect(results[0]).toEqual({ ok: expect.objectContaining({ createdAt: CREATED_AT }) });
    expect(String((results[1] as { err: unknown }).err)).toMatch(/answers a task of another submit/);
  });

  it('while a call of the queue is in flight, the next submits gather until the I/O of this loop turn is done', async () => {
    let release!: () => void;
    const calls: string[][][] = [];
    const groups = new EnqueueGroups((_, __, parts) => {
      calls.push(parts.map((p) => p.map((t) => t.id)));
      return calls.length === 1 ? new Promise((resolve) => (release = () => resolve(CREATED_AT))) : Promise.resolve(CREATED_AT);
    });
    const first = groups.submit('default', 1000, [task('a')]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(calls).toEqual([[['a']]]);
    // Two submits in two separate ticks of one loop turn (as two HTTP requests read in one poll).
    const b = groups.submit('default', 1000, [task('b')]);
    await new Promise((resolve) => process.nextTick(resolve));
    const c = groups.submit('default', 1000, [task('c')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([[['a']], [['b'], ['c']]]);
    release();
    await Promise.all([first, b, c]);
  });
});

describe('EnqueueGroups: a large group with nothing in flight goes as two calls a loop turn apart', () => {
  const nextTick = () => new Promise((resolve) => process.nextTick(resolve));
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  /** A fake script whose calls stay in flight until `release()`; `reply` as fake's. */
  function held(reply: (call: Call) => unknown = () => CREATED_AT) {
    const calls: Call[] = [];
    const pending: (() => void)[] = [];
    const groups = new EnqueueGroups((queue, ttlMs, parts) => {
      const call = { queue, ttlMs, ids: parts.map((p) => p.map((t) => t.id)) };
      calls.push(call);
      return new Promise((resolve) => pending.push(() => resolve(reply(call))));
    });
    const release = () => pending.splice(0).forEach((answer) => answer());
    return { calls, groups, release };
  }

  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it(`${2 * PIPELINE_SPLIT_MIN} submits of one tick: half at the end of the tick, half in the next loop turn, each caller answered`, async () => {
    const { calls, groups, release } = held();
    const all = ids('t', 2 * PIPELINE_SPLIT_MIN);
    const results = Promise.all(all.map((id) => groups.submit('default', 1000, [task(id)])));
    await nextTick();
    expect(calls.map((c) => c.ids.flat())).toEqual([all.slice(0, PIPELINE_SPLIT_MIN)]);
    await nextTurn();
    expect(calls.map((c) => c.ids.flat())).toEqual([all.slice(0, PIPELINE_SPLIT_MIN), all.slice(PIPELINE_SPLIT_MIN)]);
    release();
    const answered = await results;
    expect(answered.map((r) => r.outcomes.map((o) => o.kind))).toEqual(all.map(() => ['created']));
  });

  it('one submit fewer, or a call of the queue in flight: one call', async () => {
    const { calls, groups, release } = held();
    const fewer = ids('f', 2 * PIPELINE_SPLIT_MIN - 1);
    const first = Promise.all(fewer.map((id) => groups.submit('default', 1000, [task(id)])));
    await nextTurn();
    expect(calls.map((c) => c.ids.flat())).toEqual([fewer]);
    // That call is still in flight: the next large group goes whole.
    const more = ids('m', 2 * PIPELINE_SPLIT_MIN);
    const second = Promise.all(more.map((id) => groups.submit('default', 1000, [task(id)])));
    await nextTurn();
    await nextTurn();
    expect(calls.map((c) => c.ids.flat())).toEqual([fewer, more]);
    release();
    await Promise.all([first, second]);
  });

  it('a duplicate id in either half fails only its own caller', async () => {
    const { calls, groups, release } = held((call) => (call.ids.flat().includes('dup') ? QueueErrorCode.DuplicateId : CREATED_AT));
    const all = ids('t', 2 * PIPELINE_SPLIT_MIN);
    all[2 * PIPELINE_SPLIT_MIN - 2] = 'dup';
    const results = Promise.all(all.map((id) => settled(groups.submit('default', 1000, [task(id)]))));
    for (let i = 0; i < 4; i += 1) {
      await nextTurn();
      release();
    }
    const answered = await results;
    expect(answered.map((r) => ('err' in r ? 'error' : 'ok'))).toEqual(all.map((id) => (id === 'dup' ? 'error' : 'ok')));
    expect(answered.find((r) => 'err' in r)).toEqual({ err: expect.any(DuplicateTaskIdError) });
    expect(calls.length).toBeGreaterThan(2);
  });
  it('a group holding an idempotency key is never split: a later submit of that key goes after every earlier one', async () => {
    const { calls, groups, release } = held((call) => [CREATED_AT, ...call.ids.flat().map(() => 0)]);
    const keyed = (id: string) => task(id, { idempotencyKey: 'k', requestHash: 'h' });
    const all = ids('a', 2 * PIPELINE_SPLIT_MIN + 4);
    const first = all.map((id, i) => groups.submit('default', 1000, [i === all.length - 1 ? keyed(id) : task(id)]));
    // Same key: B cannot join A's group (sent now), C cannot join B's (sent now).
    const later = [groups.submit('default', 1000, [keyed('b')]), groups.submit('default', 1000, [keyed('c')])];
    for (let i = 0; i < 4; i += 1) {
      await nextTurn();
      release();
    }
    await Promise.all([...first, ...later]);
    expect(calls.map((c) => c.ids.flat())).toEqual([all, ['b'], ['c']]);
  });
});
