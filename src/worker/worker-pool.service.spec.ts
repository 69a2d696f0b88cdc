import type { PinoLogger } from 'nestjs-pino';
import { loadAppConfig } from '../config/app-config';
import { ProcessState } from '../lifecycle/process-state';
import { QueueUnavailableError } from '../queue/queue-errors';
import type { QueueRepository } from '../queue/queue.repository';
import { attemptKey } from './lease-table';
import { OutcomeWriter } from './outcome-writer';
import { TaskExecutor } from './task-executor';
import { FakeQueue, flush, leased, ManualClock, ManualHandler, RecordingLogger, registryOf } from './testing/fakes';
import { WorkerPoolService } from './worker-pool.service';

function makePool(env: Record<string, string> = {}) {
  const config = loadAppConfig({ WORKER_COUNT: '2', WORKER_PREFETCH: '0', SHUTDOWN_TIMEOUT_MS: '1000', ...env });
  const queue = new FakeQueue();
  const clock = new ManualClock();
  const logger = new RecordingLogger();
  const handler = new ManualHandler();
  const retry = { delayMs: (n: number) => 1000 * 2 ** n };
  const asLogger = logger as unknown as PinoLogger;
  const executor = new TaskExecutor(registryOf({ fake: handler }), retry, config, asLogger);
  const writer = new OutcomeWriter(queue as unknown as QueueRepository, clock, config);
  const state = new ProcessState();
  const pool = new WorkerPoolService(queue as unknown as QueueRepository, executor, writer, state, clock, config, asLogger);
  pool.onModuleInit();
  return { pool, queue, clock, logger, handler, state, writer, config };
}

type Pool = ReturnType<typeof makePool>;

/** Waits (without a clock) until `check` holds, letting the pool's promise chains run. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i += 1) {
    if (check()) return;
    await flush();
  }
  throw new Error(`never happened: ${what}`);
}

describe('WorkerPoolService', () => {
  let t: Pool | undefined;

  afterEach(async () => {
    // Whatever a spec left running is stopped: no timers or loops outlive it.
    if (!t) return;
    for (const a of t.handler.attempts) a.resolve('end');
    await t.pool.beforeApplicationShutdown();
    t = undefined;
  });

  it('fetches nothing until the app has booted', async () => {
    t = makePool();
    t.queue.push(leased('a'));
    await flush();
    expect(t.queue.fetchSizes).toEqual([]);
    expect(t.state.workerStatus()?.healthy).toBe(false);
    t.state.markBooted();
    await t.handler.started(1);
    expect(t.state.workerStatus()?.healthy).toBe(true);
  });

  describe('holds attempts by lease (id, token), not by task id', () => {
    it('a re-leased id runs beside the stale attempt; the stale outcome never releases the new one', async () => {
      t = makePool();
      t.state.markBooted();
      // Attempt 1 of task x runs; its lease is recovered elsewhere and this process leases x again (token 2).
      t.queue.push(leased('x', 1));
      await t.handler.started(1);
      t.queue.lost.add(attemptKey({ id: 'x', token: 1 }));
      t.queue.push(leased('x', 2));
      const [first, second] = await t.handler.started(2);
      expect(first.context.attempt).toBe(1);
      expect(second.context.attempt).toBe(2);
      expect(t.pool.heldCount).toBe(2);

      // The stale attempt finishes; its write is rejected (lease lost) and it is released...
      first.resolve('stale result');
      await until(() => t!.pool.heldCount === 1, 'the stale attempt to be released');
      // ...while the new attempt is still held and heart-beaten.
      await t.pool.heartbeat.tick();
      expect(t.queue.heartbeats.at(-1)).toEqual([{ id: 'x', token: 2 }]);
      expect(second.context.signal.aborted).toBe(false);

      second.resolve('fresh result');
      await until(() => t!.pool.heldCount === 0, 'the new attempt to be written');
      expect(t.queue.outcomes().map((s) => [s.lease.token, s.mode, s.text])).toEqual([
        [1, 'complete', 'stale result'],
        [2, 'complete', 'fresh result'],
      ]);
    });

    it('a lost lease reported by the heartbeat aborts that attempt only', async () => {
      t = makePool();
      t.state.markBooted();
      t.queue.push(leased('x', 1), leased('x', 2));
      const [first, second] = await t.handler.started(2);
      t.queue.lost.add(attemptKey({ id: 'x', token: 1 }));
      await t.pool.heartbeat.tick();
      expect(first.context.signal.aborted).toBe(true);
      expect(first.context.signal.reason).toBe('lease-lost');
      expect(second.context.signal.aborted).toBe(false);
      await until(() => t!.pool.heldCount === 1, 'the aborted attempt to be released');
      // Nothing is written for a lost lease.
      expect(t.queue.outcomes()).toEqual([]);
    });

    it('a delete reaches every attempt of the task', async () => {
      t = makePool();
      t.state.markBooted();
      t.queue.push(leased('x', 1), leased('x', 2));
      const [first, second] = await t.handler.started(2);
      t.queue.cancel('x');
      expect(first.context.signal.reason).toBe('deleted');
      expect(second.context.signal.reason).toBe('deleted');
      await until(() => t!.pool.heldCount === 0, 'both attempts to be released');
      expect(t.queue.outcomes()).toEqual([]);
      expect(t.logger.messages('warn').filter((m) => m === 'task outcome discarded')).toHaveLength(2);
    });
  });

  it('records the handler start before the outcome, fenced by the same lease', async () => {
    t = makePool();
    t.state.markBooted();
    t.queue.push(leased('a', 7));
    const [a] = await t.handler.started(1);
    await until(() => t!.queue.settled.length === 1, 'the start to be written');
    a.resolve('done');
    await until(() => t!.pool.heldCount === 0, 'the outcome to be written');
    expect(t.queue.settled.map((s) => [s.lease, s.mode])).toEqual([
      [{ ...leased('a', 7) }, 'start'],
      [{ ...leased('a', 7) }, 'complete'],
    ]);
  });

  it("a handler done before its start is written: one 'run' write records both, with the worker", async () => {
    t = makePool();
    t.state.markBooted();
    t.queue.push(leased('a', 7));
    const [a] = await t.handler.started(1);
    a.resolve('done');
    await until(() => t!.pool.heldCount === 0, 'the outcome to be written');
    expect(t.queue.settled.map((s) => [s.lease, s.mode, s.text])).toEqual([[{ ...leased('a', 7) }, 'run', 'done']]);
    expect(t.queue.settled[0].workerId).toMatch(/\/\d+$/);
  });

  it('a start that Redis rejects as lease-lost aborts the handler', async () => {
    t = makePool();
    t.state.markBooted();
    t.queue.lost.add(attemptKey({ id: 'a', token: 1 }));
    t.queue.push(leased('a', 1));
    const [a] = await t.handler.started(1);
    await until(() => a.context.signal.aborted, 'the handler to be aborted');
    expect(a.context.signal.reason).toBe('lease-lost');
  });

  it('drops a deleted task from the prefetch buffer without running it', async () => {
    t = makePool({ WORKER_COUNT: '1', WORKER_PREFETCH: '10' });
    t.state.markBooted();
    t.queue.push(leased('running'), leased('buffered'));
    await t.handler.started(1);
    await until(() => t!.pool.heldCount === 2, 'the second task to be buffered');
    t.queue.cancel('buffered');
    expect(t.pool.heldCount).toBe(1);
    t.handler.attempts[0].resolve('ok');
    await until(() => t!.pool.heldCount === 0, 'the running task to be written');
    expect(t.handler.attempts.map((a) => a.context.taskId)).toEqual(['running']);
    expect(t.queue.settled.some((s) => s.lease.id === 'buffered')).toBe(false);
  });

  it('a crash of the executor fails the attempt instead of losing the slot', async () => {
    t = makePool({ WORKER_COUNT: '1' });
    const executor = (t.pool as unknown as { executor: TaskExecutor }).executor;
    jest.spyOn(executor, 'start').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    t.state.markBooted();
    t.queue.push(leased('a'), leased('b'));
    // b runs in the same (only) slot after a's crash.
    await t.handler.started(1);
    expect(t.handler.attempts[0].context.taskId).toBe('b');
    await until(() => t!.queue.outcomes().length > 0, "a's outcome to be written");
    expect(t.queue.outcomes().find((s) => s.lease.id === 'a')).toMatchObject({ mode: 'fail', text: 'task execution crashed: boom' });
  });

  it('keeps fetching after a fetch error that is not an outage, and says so once', async () => {
    t = makePool();
    t.queue.fetchError = new Error('ERR unexpected');
    t.state.markBooted();
    await until(() => t!.logger.messages('error').includes('cannot fetch tasks; retrying'), 'the error line');
    t.queue.fetchError = undefined;
    t.queue.push(leased('a'));
    // The loop pauses a second after an error, then goes on.
    await t.handler.started(1);
    expect(t.logger.messages('error').filter((m) => m === 'cannot fetch tasks; retrying')).toHaveLength(1);
  }, 10_000);

  describe('health probe', () => {
    it('is unhealthy when every slot has run past TASK_TIMEOUT_MS + lease (a blocked loop), healthy otherwise', async () => {
      t = makePool({ WORKER_COUNT: '1', TASK_TIMEOUT_MS: '60000' });
      t.state.markBooted();
      t.queue.push(leased('a'));
      await t.handler.started(1);
      expect(t.state.workerStatus()?.healthy).toBe(true);
      t.clock.advance(60_000 + t.config.worker.leaseMs + 1);
      expect(t.state.workerStatus()).toMatchObject({ healthy: false, details: { stuck: 1 } });
    });

    it("judges a task with its own timeout_ms by that timeout, not by TASK_TIMEOUT_MS", async () => {
      t = makePool({ WORKER_COUNT: '1', TASK_TIMEOUT_MS: '60000' });
      t.state.markBooted();
      t.queue.push(leased('long', 1, { timeoutMs: 3_600_000 }));
      await t.handler.started(1);
      t.clock.advance(60_000 + t.config.worker.leaseMs + 1);
      expect(t.state.workerStatus()).toMatchObject({ healthy: true, details: { stuck: 0 } });
      t.clock.advance(3_600_000 - 60_000);
      expect(t.state.workerStatus()).toMatchObject({ healthy: false, details: { stuck: 1 } });
    });

    it('is unhealthy once shutdown has begun', async () => {
      t = makePool();
      t.state.markBooted();
      await flush();
      t.pool.onModuleDestroy();
      expect(t.state.workerStatus()?.healthy).toBe(false);
    });
  });

  describe('shutdown', () => {
    it('hands buffered tasks back, lets running ones finish and saves their results', async () => {
      t = makePool({ WORKER_COUNT: '1', WORKER_PREFETCH: '10' });
      t.state.markBooted();
      t.queue.push(leased('running'), leased('buffered'));
      const [running] = await t.handler.started(1);
      await until(() => t!.pool.heldCount === 2, 'the second task to be buffered');
      const stopped = t.pool.beforeApplicationShutdown();
      await flush();
      running.resolve('finished during shutdown');
      await stopped;
      expect(t.queue.outcomes().map((s) => [s.lease.id, s.mode])).toEqual([
        ['buffered', 'requeue'],
        ['running', 'complete'],
      ]);
      expect(t.queue.subscribed).toBe(false);
      t = undefined;
    });

    it('aborts handlers still running at SHUTDOWN_TIMEOUT_MS and requeues them without spending a retry', async () => {
      t = makePool({ WORKER_COUNT: '1', SHUTDOWN_TIMEOUT_MS: '50' });
      t.state.markBooted();
      t.queue.push(leased('stuck'));
      const [stuck] = await t.handler.started(1);
      await t.pool.beforeApplicationShutdown();
      expect(stuck.context.signal.reason).toBe('shutdown');
      expect(t.queue.outcomes().map((s) => [s.lease.id, s.mode])).toEqual([['stuck', 'requeue']]);
      t = undefined;
    });

    it('ends at its deadline while Redis does not answer; what is unwritten is left to the lease', async () => {
      t = makePool({ WORKER_COUNT: '1', SHUTDOWN_TIMEOUT_MS: '50' });
      t.state.markBooted();
      t.queue.push(leased('stuck'));
      await t.handler.started(1);
      t.queue.settleError = new QueueUnavailableError(new Error('Connection is closed.'));
      t.queue.heartbeatError = t.queue.settleError;
      // Real time passes here (a bounded wait for Redis); the manual clock is moved along with it.
      const ticking = setInterval(() => t?.clock.advance(100), 20);
      try {
        await t.pool.beforeApplicationShutdown();
      } finally {
        clearInterval(ticking);
      }
      expect(t.logger.messages('error')).toContain('could not record task outcome; the lease will expire and the task will run again');
      t = undefined;
    }, 20_000);
  });
});
