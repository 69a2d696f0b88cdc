import { loadAppConfig } from '../config/app-config';
import { QueueUnavailableError } from '../queue/queue-errors';
import type { QueueRepository, Settlement } from '../queue/queue.repository';
import { MAX_BATCH, MAX_BATCH_BYTES, OutcomeWriter } from './outcome-writer';
import { FakeQueue, leased, ManualClock } from './testing/fakes';

const config = loadAppConfig({ TASK_LEASE_MS: '30000' });

function writer() {
  const queue = new FakeQueue();
  const clock = new ManualClock();
  return { queue, clock, writer: new OutcomeWriter(queue as unknown as QueueRepository, clock, config) };
}

const complete = (id: string, text = 'ok'): Settlement => ({ lease: leased(id), mode: 'complete', text });
const outage = () => new QueueUnavailableError(new Error('Connection is closed.'));

describe('OutcomeWriter', () => {
  it('writes what arrives in one tick in one call, and answers each write with its own result', async () => {
    const t = writer();
    t.queue.lost.add('1:b');
    const results = await Promise.all([t.writer.write(complete('a')), t.writer.write(complete('b')), t.writer.write(complete('c'))]);
    expect(results).toEqual(['applied', 'lease-lost', 'applied']);
    expect(t.queue.settleCalls).toBe(1);
  });

  it("fuses a start and the completion of the same attempt in one batch into one 'run', answering both", async () => {
    const t = writer();
    t.queue.lost.add('1:lost');
    const start = (id: string, token = 1): Settlement => ({ lease: leased(id, token), mode: 'start', text: '', workerId: `w/${id}` });
    const results = await Promise.all([
      t.writer.write(start('a')),
      t.writer.write(start('b')),
      t.writer.write(complete('x')),
      t.writer.write(start('c', 1)),
      t.writer.write(complete('a', 'done a')),
      t.writer.write({ lease: leased('c', 2), mode: 'complete', text: 'other attempt' }),
      t.writer.write({ lease: leased('b'), mode: 'fail', text: 'boom' }),
      t.writer.write(start('lost')),
      t.writer.write(complete('lost')),
    ]);
    expect(results).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'lease-lost', 'lease-lost']);
    expect(t.queue.settleCalls).toBe(1);
    // At the start's place; a start whose outcome is not a completion, or of another attempt, goes as it is.
    expect(t.queue.settled.map((s) => `${s.mode} ${s.lease.id}:${s.lease.token} ${s.text} ${s.workerId ?? ''}`.trim())).toEqual([
      'run a:1 done a w/a',
      'start b:1  w/b',
      'complete x:1 ok',
      'start c:1  w/c',
      'complete c:2 other attempt',
      'fail b:1 boom',
      'run lost:1 ok w/lost',
    ]);
  });

  it('splits batches by count and by bytes, never leaving one out', async () => {
    const t = writer();
    const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => t.writer.write(complete(`n${i}`)));
    await Promise.all(many);
    expect(t.queue.settleCalls).toBe(2);

    const big = 'x'.repeat(Math.ceil(MAX_BATCH_BYTES / 2) + 1);
    const u = writer();
    await Promise.all([u.writer.write(complete('a', big)), u.writer.write(complete('b', big)), u.writer.write(complete('c', 'small'))]);
    expect(u.queue.settleCalls).toBe(2);
    // A single settlement larger than the byte bound still goes out.
    const v = writer();
    await expect(v.writer.write(complete('huge', 'x'.repeat(MAX_BATCH_BYTES + 1)))).resolves.toBe('applied');
  });

  it('retries through an outage until Redis answers', async () => {
    const t = writer();
    t.queue.settleError = outage();
    const result = t.writer.write(complete('a'));
    while (t.queue.settleCalls < 2) await new Promise((r) => setTimeout(r, 10));
    t.queue.settleError = undefined;
    await expect(result).resolves.toBe('applied');
  });

  it('gives up once the lease period has passed (the recoverer takes over)', async () => {
    const t = writer();
    t.queue.settleError = outage();
    const result = t.writer.write(complete('a'));
    while (t.queue.settleCalls < 1) await new Promise((r) => setTimeout(r, 10));
    t.clock.advance(30_001);
    await expect(result).resolves.toBe('unwritten');
  });

  it('does not retry an error that is not an outage', async () => {
    const t = writer();
    t.queue.settleError = new Error('ERR bug');
    await expect(t.writer.write(complete('a'))).resolves.toBe('unwritten');
    expect(t.queue.settleCalls).toBe(1);
  });

  it('cutOff makes pending and later writes give up at the shutdown deadline', async () => {
    const t = writer();
    t.queue.settleError = outage();
    const pending = t.writer.write(complete('a'));
    while (t.queue.settleCalls < 1) await new Promise((r) => setTimeout(r, 10));
    t.writer.cutOff(t.clock.now() + 100);
    t.clock.advance(101);
    await expect(pending).resolves.toBe('unwritten');
    await expect(t.writer.write(complete('b'))).resolves.toBe('unwritten');
    await t.writer.drain();
  });

  it('submit answers each write of a batch by its callback, even when an earlier callback throws', async () => {
    const t = writer();
    // What a callback throws is thrown again on its own, in a microtask: kept here instead.
    const rethrown: Array<() => void> = [];
    const spy = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => void rethrown.push(fn));
    try {
      const answers: string[] = [];
      t.writer.submit(complete('a'), () => {
        throw new Error('callback bug');
      });
      t.writer.submit(complete('b'), (result) => answers.push(`b:${result}`));
      expect(answers).toEqual([]);
      await t.writer.drain();
      expect(answers).toEqual(['b:applied']);
      expect(rethrown).toHaveLength(1);
      expect(rethrown[0]).toThrow('callback bug');
    } finally {
      spy.mockRestore();
    }
  });

  it('drain resolves once everything written so far is settled', async () => {
    const t = writer();
    let settled = false;
    void t.writer.write(complete('a')).then(() => (settled = true));
    await t.writer.drain();
    expect(settled).toBe(true);
  });
});
