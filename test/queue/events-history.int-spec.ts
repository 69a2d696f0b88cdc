import type Redis from 'ioredis';
import { parseAttemptEntry } from '../../src/queue/attempt-history';
import { QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { LeaseLostError } from '../../src/queue/queue-errors';
import { LeasedTask } from '../../src/queue/task.model';
import { LEASE_MS, newTask, QueueFixture, QueueHarness } from '../support/queue-harness';

const LOST = 'lease expired: worker lost';
const WORKER = 'host-a-123/2';

/**
 * What the scripts publish on the events channel (`id|event|attempt` lines, one message per script
 * call) and what they keep as a task's attempt history (the last ended attempt in the task hash,
 * earlier ones in `t:<id>:h`), against a real Redis.
 */
describe('task events and attempt history (settle, recover, delete, purge-expired)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  /** A queue and a subscriber to its events channel. */
  async function setup(): Promise<{ q: QueueFixture; heard: () => Promise<string[]>; messages: () => Promise<string[]> }> {
    const q = harness.queue();
    const sub: Redis = harness.client();
    const received: string[] = [];
    sub.on('message', (channel: string, message: string) => {
      if (channel === q.keys.eventsChannel) received.push(message);
    });
    await sub.subscribe(q.keys.eventsChannel);
    // A PING on the subscriber is answered after every message published before it was sent.
    const messages = async () => {
      await sub.ping();
      return received.splice(0, received.length);
    };
    /** The events heard since the last call, one per line of the messages. */
    const heard = async () => (await messages()).flatMap((m) => m.split('\n'));
    return { q, heard, messages };
  }

  async function lease(q: QueueFixture, id: string, maxRetry = 3): Promise<LeasedTask> {
    await q.repo.enqueue([newTask({ id, type: 'job', maxRetry })]);
    const [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    expect(t.id).toBe(id);
    return t;
  }

  const history = async (q: QueueFixture, id: string) => (await q.repo.get(id))?.history ?? [];

  it('start publishes processing once and keeps the worker id; complete records a completed attempt', async () => {
    const { q, heard } = await setup();
    const t = await lease(q, 'a');
    expect(await heard()).toEqual([]); // leasing is not a transition clients see

    await q.repo.start(t, WORKER);
    await q.repo.start(t, WORKER);
    expect(await heard()).toEqual(['a|processing|1']);
    const { started_at: startedAt, worker } = await q.hash('a');
    expect(worker).toBe(WORKER);

    await q.repo.complete(t, 'ok');
    expect(await heard()).toEqual(['a|completed|1']);
    const h = await q.hash('a');
    expect(await history(q, 'a')).toEqual([
      { attempt: 1, outcome: 'completed', startedAt: Number(startedAt), endedAt: Number(h.updated_at), workerId: WORKER, error: undefined },
    ]);
    // A task that ran once keeps its attempt in its hash: no list key, no extra write; completed, the
    // attempt is the task's own fields (no h_* field).
    expect(h).toMatchObject({ attempts: '1', started: '1', started_at: startedAt, worker: WORKER });
    expect(Object.keys(h).filter((f) => f.startsWith('h_') || f === 'completed_at')).toEqual([]);
    expect(await q.redis.exists(q.keys.history('a'))).toBe(0);
  });

  it("'run' (a start and its completion fused by the worker) writes, publishes and records what start + complete do", async () => {
    const { q, heard } = await setup();
    // First attempts, and second attempts after a retry (the start archives the retried attempt).
    const [a, b] = [await lease(q, 'ra'), await lease(q, 'rb')];
    await q.repo.enqueue([newTask({ id: 'rc', type: 'job' }), newTask({ id: 'rd', type: 'job' })]);
    for (const first of (await q.repo.fetch(2, LEASE_MS)).tasks) {
      await q.repo.start(first, 'w/1');
      await q.repo.retry(first, 'boom', 0);
    }
    const again = (await q.repo.fetch(2, LEASE_MS)).tasks;
    const c = again.find((t) => t.id === 'rc') as LeasedTask;
    const d = again.find((t) => t.id === 'rd') as LeasedTask;
    await heard();

    await q.repo.settle([
      { lease: a, mode: 'start', text: '', workerId: WORKER },
      { lease: a, mode: 'complete', text: 'ok' },
      { lease: c, mode: 'start', text: '', workerId: WORKER },
      { lease: c, mode: 'complete', text: 'ok' },
    ]);
    const separate = await heard();
    await expect(
      q.repo.settle([
        { lease: b, mode: 'run', text: 'ok', workerId: WORKER },
        { lease: d, mode: 'run', text: 'ok', workerId: WORKER },
      ]),
    ).resolves.toEqual(['applied', 'applied']);
    expect(await heard()).toEqual(separate.map((line) => line.replace(/^ra\|/, 'rb|').replace(/^rc\|/, 'rd|')));

    // Same fields and values but the times (one Redis clock reading per call) and the payloads (numbered).
    const times = ['started_at', 'updated_at', 'created_at', 'payload'];
    const shape = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([f]) => !times.includes(f)));
    expect(shape(await q.hash('rb'))).toEqual(shape(await q.hash('ra')));
    expect(shape(await q.hash('rd'))).toEqual(shape(await q.hash('rc')));
    const strip = (h: Awaited<ReturnType<typeof history>>) => h.map(({ outcome, attempt, workerId, error }) => ({ outcome, attempt, workerId, error }));
    expect(strip(await history(q, 'rd'))).toEqual(strip(await history(q, 'rc')));
    expect(strip(await history(q, 'rd')).map((e) => e.outcome)).toEqual(['retry', 'completed']);
    const hb = await q.hash('rb');
    expect(hb).toMatchObject({ status: 'completed', started: '1', worker: WORKER, started_at: hb.updated_at });

    // A retried call (its reply lost) is recognised as applied and writes nothing more.
    await expect(q.repo.settle([{ lease: b, mode: 'run', text: 'ok', workerId: WORKER }])).resolves.toEqual(['applied']);
    expect(await heard()).toEqual([]);
    await expect(q.repo.settle([{ lease: b, mode: 'run', text: 'other', workerId: WORKER }])).resolves.toEqual(['lease-lost']);
  });

  it("'run' after an attempt that never started (requeued) records and publishes what start + complete do", async () => {
    const { q, heard } = await setup();
    await q.repo.enqueue([newTask({ id: 're', type: 'job' }), newTask({ id: 'rf', type: 'job' })]);
    for (const first of (await q.repo.fetch(2, LEASE_MS)).tasks) await q.repo.requeue(first);
    const again = (await q.repo.fetch(2, LEASE_MS)).tasks;
    const e = again.find((t) => t.id === 're') as LeasedTask;
    const f = again.find((t) => t.id === 'rf') as LeasedTask;
    await heard();

    await q.repo.settle([
      { lease: e, mode: 'start', text: '', workerId: WORKER },
      { lease: e, mode: 'complete', text: 'ok' },
    ]);
    const separate = await heard();
    await expect(q.repo.settle([{ lease: f, mode: 'run', text: 'ok', workerId: WORKER }])).resolves.toEqual(['applied']);
    expect(await heard()).toEqual(separate.map((line) => line.replace(/^re\|/, 'rf|')));

    const times = ['started_at', 'updated_at', 'created_at', 'payload'];
    const shape = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([field]) => !times.includes(field)));
    expect(shape(await q.hash('rf'))).toEqual(shape(await q.hash('re')));
    const strip = (h: Awaited<ReturnType<typeof history>>) => h.map(({ outcome, attempt, workerId, error, startedAt }) => ({ outcome, attempt, workerId, error, started: startedAt !== undefined }));
    expect(strip(await history(q, 'rf'))).toEqual(strip(await history(q, 're')));
    expect(strip(await history(q, 'rf'))).toEqual([
      { outcome: 'requeued', attempt: 1, workerId: undefined, error: undefined, started: false },
      { outcome: 'completed', attempt: 2, workerId: WORKER, error: undefined, started: true },
    ]);
    const hf = await q.hash('rf');
    expect(hf).toMatchObject({ status: 'completed', started: '2', worker: WORKER, started_at: hf.updated_at, result: 'ok' });
  });

  it('one script call publishes one message holding every transition it made, in order', async () => {
    const { q, messages } = await setup();
    await q.repo.enqueue([newTask({ id: 'x1', type: 'job' }), newTask({ id: 'x2', type: 'job' })]);
    const leased = (await q.repo.fetch(2, LEASE_MS)).tasks;
    await messages();
    await q.repo.settle([
      ...leased.map((lease) => ({ lease, mode: 'start' as const, text: '', workerId: 'w/1' })),
      { lease: leased[0], mode: 'complete', text: 'ok' },
      { lease: leased[1], mode: 'retry', text: 'boom', delayMs: 0 },
    ]);
    const [a, b] = leased.map((l) => l.id);
    expect(await messages()).toEqual([[`${a}|processing|1`, `${b}|processing|1`, `${a}|completed|1`, `${b}|retrying|1`].join('\n')]);
  });

  it('retry, then fail: one entry per attempt with its error, worker and times; retrying and failed published', async () => {
    const { q, heard } = await setup();
    const first = await lease(q, 'b', 1);
    await q.repo.start(first, 'w/1');
    await q.repo.retry(first, 'boom 1', 0);
    const afterRetry = await q.hash('b');
    const [second] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(second, 'w/2');
    await q.repo.fail(second, 'boom 2');
    const afterFail = await q.hash('b');

    expect(await heard()).toEqual(['b|processing|1', 'b|retrying|1', 'b|processing|2', 'b|failed|2']);
    expect(await history(q, 'b')).toEqual([
      { attempt: 1, outcome: 'retry', startedAt: expect.any(Number), endedAt: Number(afterRetry.updated_at), workerId: 'w/1', error: 'boom 1' },
      { attempt: 2, outcome: 'failed', startedAt: Number(afterFail.started_at), endedAt: Number(afterFail.updated_at), workerId: 'w/2', error: 'boom 2' },
    ]);
  });

  it.each([
    { how: "the executor's error text", text: 'timeout after 300 ms', timedOut: undefined },
    { how: 'the timedOut flag', text: 'handler gave up', timedOut: true },
  ])('a timed-out attempt is recorded as timeout (recognised by $how), retried or failed', async ({ text, timedOut }) => {
    const { q } = await setup();
    const first = await lease(q, 'c', 1);
    await q.repo.start(first, 'w/1');
    await q.repo.settle([{ lease: first, mode: 'retry', text, delayMs: 0, timedOut }]);
    const [second] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(second, 'w/1');
    await q.repo.settle([{ lease: second, mode: 'fail', text, timedOut }]);

    expect((await history(q, 'c')).map((e) => [e?.attempt, e?.outcome, e?.error])).toEqual([
      [1, 'timeout', text],
      [2, 'timeout', text],
    ]);
    expect((await q.hash('c')).status).toBe('failed');
  });

  it('an error that merely mentions a timeout is a plain failure', async () => {
    const { q } = await setup();
    const t = await lease(q, 'd', 0);
    await q.repo.start(t, 'w/1');
    await q.repo.fail(t, 'upstream said: timeout after 300 ms, giving up');
    expect((await history(q, 'd'))[0]?.outcome).toBe('failed');
  });

  it('requeue of a task that never started: requeued, without start time or worker; pending published', async () => {
    const { q, heard } = await setup();
    const t = await lease(q, 'e');
    await q.repo.requeue(t);
    const h = await q.hash('e');
    expect(await heard()).toEqual(['e|pending|1']);
    expect(await history(q, 'e')).toEqual([
      { attempt: 1, outcome: 'requeued', startedAt: undefined, endedAt: Number(h.updated_at), workerId: undefined, error: undefined },
    ]);
  });

  it('requeue of a started attempt (shutdown) keeps its start time and worker', async () => {
    const { q } = await setup();
    const t = await lease(q, 'f');
    await q.repo.start(t, 'w/3');
    const { started_at: startedAt } = await q.hash('f');
    await q.repo.requeue(t);
    expect(await history(q, 'f')).toEqual([
      { attempt: 1, outcome: 'requeued', startedAt: Number(startedAt), endedAt: expect.any(Number), workerId: 'w/3', error: undefined },
    ]);
  });

  describe('recover.lua writes lost attempts', () => {
    it('a started attempt whose lease expired: lost with its worker and start time, then retrying published', async () => {
      const { q, heard } = await setup();
      const t = await lease(q, 'g', 1);
      await q.repo.start(t, WORKER);
      const { started_at: startedAt } = await q.hash('g');
      await heard();
      await q.expire('g');
      expect(await q.repo.recoverExpired(10, LOST, [0], 5)).toEqual([{ id: 'g', outcome: 'retry', retries: 1 }]);
      const h = await q.hash('g');
      expect(await heard()).toEqual(['g|retrying|1']);
      expect(await history(q, 'g')).toEqual([
        { attempt: 1, outcome: 'lost', startedAt: Number(startedAt), endedAt: Number(h.updated_at), workerId: WORKER, error: LOST },
      ]);

      // Its last retry lost as well: failed.
      const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      await q.repo.start(again, 'w/9');
      await heard();
      await q.expire('g');
      expect(await q.repo.recoverExpired(10, LOST, [0], 5)).toEqual([{ id: 'g', outcome: 'failed', retries: 1 }]);
      expect(await heard()).toEqual(['g|failed|2']);
      expect((await history(q, 'g')).map((e) => [e?.attempt, e?.outcome, e?.workerId])).toEqual([
        [1, 'lost', WORKER],
        [2, 'lost', 'w/9'],
      ]);
    });

    it('an attempt that never started (stalled): lost without worker or start time, pending published; too many stalls: failed', async () => {
      const { q, heard } = await setup();
      // A started first attempt leaves started_at/worker behind: they must not be taken for the stalled one's.
      const first = await lease(q, 'h', 1);
      await q.repo.start(first, 'w/1');
      await q.repo.retry(first, 'boom', 0);
      const [stalled] = (await q.repo.fetch(1, LEASE_MS)).tasks;
      expect(stalled.token).toBe(2);
      await heard();
      await q.expire('h');
      expect(await q.repo.recoverExpired(10, LOST, [0], 1)).toEqual([{ id: 'h', outcome: 'stalled', retries: 1 }]);
      expect(await heard()).toEqual(['h|pending|2']);
      const entries = await history(q, 'h');
      expect(entries[1]).toEqual({
        attempt: 2,
        outcome: 'lost',
        startedAt: undefined,
        endedAt: expect.any(Number),
        workerId: undefined,
        error: 'lease expired before the task started',
      });

      await q.repo.fetch(1, LEASE_MS);
      await q.expire('h');
      expect(await q.repo.recoverExpired(10, LOST, [0], 1)).toEqual([{ id: 'h', outcome: 'failed', retries: 1 }]);
      expect(await heard()).toEqual(['h|failed|3']);
      expect((await history(q, 'h'))[2]).toMatchObject({ attempt: 3, outcome: 'lost', error: 'lease expired 2 times before the task started: worker lost' });
    });

    it('the worker of a recovered attempt cannot add to the history afterwards (fencing)', async () => {
      const { q, heard } = await setup();
      const t = await lease(q, 'i', 0);
      await q.repo.start(t, WORKER);
      await q.expire('i');
      await q.repo.recoverExpired(10, LOST, [0], 5);
      await heard();
      await expect(q.repo.complete(t, 'late')).rejects.toBeInstanceOf(LeaseLostError);
      expect(await heard()).toEqual([]);
      expect((await history(q, 'i')).map((e) => e?.outcome)).toEqual(['lost']);
    });
  });

  it('keeps the last 10 attempts, oldest first', async () => {
    const { q } = await setup();
    let t = await lease(q, 'j', 25);
    const startedAt: number[] = [];
    for (let i = 1; i <= 12; i += 1) {
      await q.repo.start(t, `w/${i}`);
      startedAt[i] = Number((await q.hash('j')).started_at);
      await q.repo.retry(t, `error ${i}`, 0);
      [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    }
    const entries = await history(q, 'j');
    expect(entries.map((e) => e?.attempt)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(entries.map((e) => e?.error)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `error ${n}`));
    expect(entries.map((e) => e?.workerId)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `w/${n}`));
    // Each kept its own start time (archived before the next start overwrote the task's).
    expect(entries.map((e) => e?.startedAt)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => startedAt[n]));
    // Nine in the list (raw entries), the last in the hash.
    expect((await q.history('j')).map((e) => parseAttemptEntry(e)?.attempt)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await q.hash('j')).h_attempt).toBe('12');
  });

  it('a task completed after earlier attempts: the list keeps them, the completing attempt is the task itself (no h_* left)', async () => {
    const { q } = await setup();
    let t = await lease(q, 'm', 25);
    for (let i = 1; i <= 11; i += 1) {
      await q.repo.start(t, `w/${i}`);
      await q.repo.retry(t, `error ${i}`, 0);
      [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    }
    // Attempt 12 is handed back before it starts (held in h_*, never started), attempt 13 completes.
    await q.repo.requeue(t);
    [t] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(t, 'w/13');
    await q.repo.complete(t, 'done');
    const h = await q.hash('m');
    expect(Object.keys(h).filter((f) => f.startsWith('h_') || f === 'completed_at')).toEqual([]);
    const entries = await history(q, 'm');
    expect(entries.map((e) => [e.attempt, e.outcome, e.workerId])).toEqual([
      ...[4, 5, 6, 7, 8, 9, 10, 11].map((n) => [n, 'retry', `w/${n}`]),
      [12, 'requeued', undefined],
      [13, 'completed', 'w/13'],
    ]);
    expect(entries[9]).toEqual({ attempt: 13, outcome: 'completed', startedAt: Number(h.started_at), endedAt: Number(h.updated_at), workerId: 'w/13', error: undefined });
    const task = await q.repo.get('m');
    expect(task?.completedAt).toBe(Number(h.updated_at));
    expect(task?.error).toBe('error 11');
  });

  it('retry, then complete: the retry archived when the next attempt started, no h_* left', async () => {
    const { q } = await setup();
    const t = await lease(q, 'n');
    await q.repo.start(t, 'w/1');
    await q.repo.retry(t, 'boom 1', 0);
    const [second] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(second, 'w/2');
    // The start archived attempt 1 and left h_attempt '' (the other h_* fields stale) until the end.
    expect((await q.hash('n')).h_attempt).toBe('');
    await q.repo.complete(second, 'ok');
    const h = await q.hash('n');
    expect(Object.keys(h).filter((f) => f.startsWith('h_') || f === 'completed_at')).toEqual([]);
    expect(await history(q, 'n')).toEqual([
      { attempt: 1, outcome: 'retry', startedAt: expect.any(Number), endedAt: expect.any(Number), workerId: 'w/1', error: 'boom 1' },
      { attempt: 2, outcome: 'completed', startedAt: Number(h.started_at), endedAt: Number(h.updated_at), workerId: 'w/2', error: undefined },
    ]);
  });

  it('reads a task finished by the previous version (completed_at and h_* stored) as it did', async () => {
    const { q } = await setup();
    // The hash and history list as the previous version left them: a retry, then the completing attempt.
    await q.redis.hset(q.keys.task('old'), {
      type: 'job', payload: 'p', status: 'completed', retries: '1', max_retry: '3', attempts: '2',
      created_at: '1000', updated_at: '5000', started_at: '4000', started: '2', worker: 'w/2', result: 'r', error: 'boom',
      completed_at: '5000', h_attempt: '2', h_outcome: 'completed', h_ended_at: '5000', h_error: '',
    });
    await q.redis.rpush(q.keys.history('old'), '1|retry|2000|3000|w/1|boom');
    const task = await q.repo.get('old');
    expect(task).toMatchObject({ status: 'completed', attempts: 2, createdAt: 1000, updatedAt: 5000, startedAt: 4000, completedAt: 5000, result: 'r' });
    expect(task?.history).toEqual([
      { attempt: 1, outcome: 'retry', startedAt: 2000, endedAt: 3000, workerId: 'w/1', error: 'boom' },
      { attempt: 2, outcome: 'completed', startedAt: 4000, endedAt: 5000, workerId: 'w/2', error: undefined },
    ]);
  });

  it('cuts a long error at 1 KiB in the history, never inside a UTF-8 character; the task keeps it whole', async () => {
    const { q } = await setup();
    const t = await lease(q, 'k', 1);
    await q.repo.start(t, 'w/1');
    const error = `x${'€'.repeat(600)}`; // 1 + 1800 bytes: 1024 falls inside a 3-byte character
    await q.repo.retry(t, error, 0);
    const cut = `x${'€'.repeat(341)}`; // 1 + 1023 bytes
    // The last attempt's error, read from the task's error field, is cut the same way.
    expect((await history(q, 'k'))[0]?.error).toBe(cut);
    const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(again, 'w/1');
    await q.repo.complete(again, 'ok');
    expect((await q.history('k')).map((e) => parseAttemptEntry(e)?.error)).toEqual([cut]);
    expect((await history(q, 'k')).map((e) => e.error)).toEqual([cut, undefined]);
    expect((await q.hash('k')).error).toBe(error);
  });

  it('a repeated settle (its reply was lost) adds no second entry and publishes nothing again', async () => {
    const { q, heard } = await setup();
    const t = await lease(q, 'l');
    await q.repo.start(t, 'w/1');
    await q.repo.complete(t, 'ok');
    await heard();
    const before = await q.dump();
    expect(await q.repo.settle([{ lease: t, mode: 'complete', text: 'ok' }])).toEqual(['applied']);
    expect(await heard()).toEqual([]);
    expect(await q.dump()).toEqual(before);
  });

  it('delete removes the history with the task and publishes deleted', async () => {
    const { q, heard } = await setup();
    const t = await lease(q, 'm');
    await q.repo.start(t, 'w/1');
    await q.repo.retry(t, 'boom', 0);
    const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(again, 'w/1');
    await q.repo.retry(again, 'boom', 60_000);
    expect(await q.history('m')).toHaveLength(1);
    await heard();
    await q.repo.delete('m');
    expect(await heard()).toEqual(['m|deleted|2']);
    expect(await q.redis.exists(q.keys.history('m'), q.keys.task('m'))).toBe(0);
    expect((await q.allKeys()).filter((k) => k.startsWith('t:'))).toEqual([]);
  });

  it('purge-expired removes the history with the finished task', async () => {
    const { q } = await setup();
    const t = await lease(q, 'n');
    await q.repo.start(t, 'w/1');
    await q.repo.retry(t, 'boom', 0);
    const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(again, 'w/1');
    await q.repo.complete(again, 'ok');
    expect(await q.history('n')).toHaveLength(1);
    expect(await q.repo.purgeExpired(0, 100)).toBe(1);
    expect(await q.redis.exists(q.keys.history('n'), q.keys.task('n'))).toBe(0);
    expect((await q.allKeys()).filter((k) => k.startsWith('t:'))).toEqual([]);
  });

  it('the integrity checker accepts histories of tasks and names one without a task', async () => {
    const { q } = await setup();
    const t = await lease(q, 'o');
    await q.repo.start(t, 'w/1');
    await q.repo.retry(t, 'boom', 0);
    const [again] = (await q.repo.fetch(1, LEASE_MS)).tasks;
    await q.repo.start(again, 'w/1');
    await q.repo.complete(again, 'ok');
    expect(await q.history('o')).toHaveLength(1);
    const checker = new QueueIntegrityChecker(harness.connections, q.repo);
    expect((await checker.check()).violations).toEqual([]);

    await q.redis.rpush(q.keys.history('ghost'), '1|lost||1||');
    expect((await checker.check()).violations).toEqual([{ kind: 'dangling-entry', id: 'ghost', detail: 'attempt history without a task' }]);
  });
});
