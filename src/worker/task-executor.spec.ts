import { IsInt, Min } from 'class-validator';
import type { PinoLogger } from 'nestjs-pino';
import { loadAppConfig } from '../config/app-config';
import { NonRetryableError, RetryAfterError, TaskHandler } from '../task-types/task-handler';
import { encodeJsonValue, JSON_MARK } from '../queue/json-value';
import { TaskExecutor } from './task-executor';
import { leased, ManualHandler, RecordingLogger, registryOf } from './testing/fakes';

function executorWith(handler: TaskHandler, env: Record<string, string> = {}) {
  const config = loadAppConfig({ TASK_TIMEOUT_MS: '60000', ...env });
  const logger = new RecordingLogger();
  const executor = new TaskExecutor(registryOf({ fake: handler }), { delayMs: (n) => 100 * (n + 1) }, config, logger as unknown as PinoLogger);
  return { executor, logger };
}

const returning = (value: unknown): TaskHandler => ({ handle: () => Promise.resolve(value as string) });
const throwing = (value: unknown): TaskHandler => ({ handle: () => Promise.reject(value) });

describe('TaskExecutor', () => {
  it('completes with a string result as it is', async () => {
    const { executor } = executorWith(returning('hi'));
    await expect(executor.run(leased('a'), 'w/1', new AbortController().signal)).resolves.toEqual({ mode: 'complete', text: 'hi' });
  });

  it('stores undefined (and a function) as an empty result and other values as marked JSON (json-value.ts)', async () => {
    const cases: Array<[unknown, string]> = [
      [undefined, ''],
      [() => 1, ''],
      [null, `${JSON_MARK}null`],
      [{ a: 1 }, `${JSON_MARK}{"a":1}`],
      [[1, 'x'], `${JSON_MARK}[1,"x"]`],
      [42, `${JSON_MARK}42`],
      [false, `${JSON_MARK}false`],
    ];
    for (const [value, text] of cases) {
      const { executor } = executorWith(returning(value));
      await expect(executor.run(leased('a'), 'w/1', new AbortController().signal)).resolves.toEqual({ mode: 'complete', text });
    }
  });

  it('fails without retrying a result larger than MAX_RESULT_BYTES, naming both sizes', async () => {
    const { executor } = executorWith(returning('é'.repeat(600)), { MAX_RESULT_BYTES: '1000' });
    await expect(executor.run(leased('a'), 'w/1', new AbortController().signal)).resolves.toEqual({
      mode: 'fail',
      text: 'result is 1200 bytes, more than MAX_RESULT_BYTES (1000)',
    });
  });

  it('retries a thrown error with the strategy backoff, until retries are spent', async () => {
    const { executor } = executorWith(throwing(new Error('nope')));
    await expect(executor.run(leased('a', 1, { retries: 1, maxRetry: 2 }), 'w/1', new AbortController().signal)).resolves.toEqual({
      mode: 'retry',
      text: 'nope',
      delayMs: 200,
    });
    await expect(executor.run(leased('a', 1, { retries: 2, maxRetry: 2 }), 'w/1', new AbortController().signal)).resolves.toEqual({
      mode: 'fail',
      text: 'nope',
    });
  });

  it('a RetryAfterError waits the longer of its delay and the backoff, capped at the backoff maximum', async () => {
    const cases: [number, Record<string, string>, number][] = [
      [5000, {}, 5000], // longer than the strategy's 200 ms
      [50, {}, 200], // shorter: the backoff wins
      [10_000_000, { RETRY_MAX_DELAY_MS: '60000' }, 60_000], // capped at RETRY_MAX_DELAY_MS
    ];
    for (const [asked, env, delayMs] of cases) {
      const { executor } = executorWith(throwing(new RetryAfterError('busy', asked)), env);
      await expect(executor.run(leased('a', 1, { retries: 1, maxRetry: 2 }), 'w/1', new AbortController().signal)).resolves.toEqual({
        mode: 'retry',
        text: 'busy',
        delayMs,
      });
    }
    const policy = { type: 'fixed' as const, delayMs: 10, maxDelayMs: 3000, jitter: false };
    const { executor } = executorWith(throwing(new RetryAfterError('busy', 9000)));
    const outcome = await executor.run(leased('a', 1, { retries: 0, maxRetry: 2, backoff: policy }), 'w/1', new AbortController().signal);
    expect(outcome).toEqual({ mode: 'retry', text: 'busy', delayMs: 3000 }); // the task's own max_delay_ms
    const last = executorWith(throwing(new RetryAfterError('busy', 10)));
    await expect(last.executor.run(leased('a', 1, { retries: 2, maxRetry: 2 }), 'w/1', new AbortController().signal)).resolves.toEqual({
      mode: 'fail',
      text: 'busy',
    });
  });

  it('turns non-Error throws into a message', async () => {
    for (const [thrown, text] of [['plain string', 'plain string'], [undefined, 'undefined'], [{ code: 1 }, '[object Object]'], [new Error(''), 'Error']] as const) {
      const { executor } = executorWith(throwing(thrown));
      await expect(executor.run(leased('a', 1, { maxRetry: 0 }), 'w/1', new AbortController().signal)).resolves.toEqual({ mode: 'fail', text });
    }
  });

  it('a handler that throws synchronously is a failed attempt, not a crash', async () => {
    const { executor } = executorWith({
      handle: () => {
        throw new NonRetryableError('bad input');
      },
    });
    await expect(executor.run(leased('a'), 'w/1', new AbortController().signal)).resolves.toEqual({ mode: 'fail', text: 'bad input' });
  });

  it('fails an unknown type at once, naming the known types', async () => {
    const { executor } = executorWith(returning('x'));
    await expect(executor.run(leased('a', 1, { type: 'nope' }), 'w/1', new AbortController().signal)).resolves.toEqual({
      mode: 'fail',
      text: 'unknown task type "nope"; known types: fake',
    });
  });

  it('a handler that copies its context (spread, Object.assign, JSON of the keys) still has the signal', async () => {
    const seen: Array<{ keys: string[]; copied?: AbortSignal; assigned?: AbortSignal }> = [];
    const handler: TaskHandler = {
      handle: (_payload, context) => {
        const copied = { ...context };
        const assigned = Object.assign({}, context);
        seen.push({ keys: Object.keys(context).sort(), copied: copied.signal, assigned: assigned.signal });
        return new Promise(() => undefined);
      },
    };
    const { executor } = executorWith(handler, { TASK_TIMEOUT_MS: '20' });
    await executor.run(leased('a'), 'w/1', new AbortController().signal);
    expect(seen[0].keys).toEqual(['attempt', 'signal', 'taskId']);
    expect(seen[0].copied).toBeInstanceOf(AbortSignal);
    expect(seen[0].copied?.aborted).toBe(true);
    expect(seen[0].copied?.reason).toBe('timeout');
    expect(seen[0].assigned).toBe(seen[0].copied);
  });

  describe('TASK_TIMEOUT_MS', () => {
    it('aborts the signal with reason timeout and fails the attempt as retryable, even when the handler ignores it', async () => {
      const handler = new ManualHandler();
      const { executor } = executorWith(handler, { TASK_TIMEOUT_MS: '30' });
      const outcome = await executor.run(leased('a'), 'w/1', new AbortController().signal);
      expect(outcome).toEqual({ mode: 'retry', text: 'timeout after 30 ms', delayMs: 100 });
      expect(handler.attempts[0].context.signal.reason).toBe('timeout');
      // The ignored handler's late result changes nothing.
      handler.attempts[0].resolve('too late');
    });

    it('a timeout on the last retry fails the task', async () => {
      const { executor } = executorWith(new ManualHandler(), { TASK_TIMEOUT_MS: '10' });
      await expect(executor.run(leased('a', 1, { maxRetry: 0 }), 'w/1', new AbortController().signal)).resolves.toEqual({
        mode: 'fail',
        text: 'timeout after 10 ms',
      });
    });

    it("a task's own timeout_ms replaces TASK_TIMEOUT_MS when shorter", async () => {
      const handler = new ManualHandler();
      const { executor } = executorWith(handler, { TASK_TIMEOUT_MS: '60000' });
      const outcome = await executor.run(leased('a', 1, { timeoutMs: 20 }), 'w/1', new AbortController().signal);
      expect(outcome).toEqual({ mode: 'retry', text: 'timeout after 20 ms', delayMs: 100 });
      expect(handler.attempts[0].context.signal.reason).toBe('timeout');
    });

    it("a task's own timeout_ms replaces TASK_TIMEOUT_MS when longer", async () => {
      const handler = new ManualHandler();
      const { executor } = executorWith(handler, { TASK_TIMEOUT_MS: '10' });
      const running = executor.run(leased('a', 1, { timeoutMs: 60_000 }), 'w/1', new AbortController().signal);
      const [attempt] = await handler.started(1);
      // Well past TASK_TIMEOUT_MS: still running.
      await new Promise((r) => setTimeout(r, 50));
      expect(attempt.context.signal.aborted).toBe(false);
      attempt.resolve('in time');
      await expect(running).resolves.toEqual({ mode: 'complete', text: 'in time' });
    });
  });

  it("hands the task's own backoff policy to the retry strategy", async () => {
    const config = loadAppConfig({});
    const calls: unknown[][] = [];
    const strategy = { delayMs: (...args: unknown[]) => (calls.push(args), 4242) };
    const executor = new TaskExecutor(registryOf({ fake: throwing(new Error('nope')) }), strategy, config, new RecordingLogger() as unknown as PinoLogger);
    const backoff = { type: 'fixed' as const, delayMs: 300, maxDelayMs: 300, jitter: false };

    const outcome = await executor.run(leased('a', 1, { retries: 2, maxRetry: 5, backoff }), 'w/1', new AbortController().signal);

    expect(outcome).toEqual({ mode: 'retry', text: 'nope', delayMs: 4242 });
    expect(calls).toEqual([[2, backoff]]);
  });

  describe('aborted by the pool', () => {
    it('discards on delete and on a lost lease, even after the handler succeeded', async () => {
      for (const reason of ['deleted', 'lease-lost'] as const) {
        const handler = new ManualHandler();
        const { executor } = executorWith(handler);
        const controller = new AbortController();
        const running = executor.run(leased('a'), 'w/1', controller.signal);
        const [attempt] = await handler.started(1);
        attempt.resolve('done');
        controller.abort(reason);
        await expect(running).resolves.toEqual({ mode: 'discard', reason });
      }
    });

    it('requeues on shutdown, but keeps a result that was already there', async () => {
      const handler = new ManualHandler();
      const { executor } = executorWith(handler);
      const stopping = new AbortController();
      const stopped = executor.run(leased('a'), 'w/1', stopping.signal);
      await handler.started(1);
      stopping.abort('shutdown');
      await expect(stopped).resolves.toEqual({ mode: 'requeue', text: '' });

      const finishing = new AbortController();
      const finished = executor.run(leased('b'), 'w/1', finishing.signal);
      const [, second] = await handler.started(2);
      second.resolve('made it');
      await Promise.resolve();
      finishing.abort('shutdown');
      await expect(finished).resolves.toEqual({ mode: 'complete', text: 'made it' });
    });

    it('stops waiting for a handler that ignores its signal', async () => {
      const handler = new ManualHandler();
      const { executor } = executorWith(handler);
      const controller = new AbortController();
      const running = executor.run(leased('a'), 'w/1', controller.signal);
      await handler.started(1);
      controller.abort('deleted');
      await expect(running).resolves.toEqual({ mode: 'discard', reason: 'deleted' });
    });
  });

  it('logs each written outcome once, at the level its meaning calls for', () => {
    const { executor, logger } = executorWith(returning('x'));
    const task = leased('a', 2, { retries: 1, maxRetry: 3 });
    executor.report(task, 'w/1', { mode: 'complete', text: 'x' }, 'applied', 5);
    executor.report(task, 'w/1', { mode: 'retry', text: 'e', delayMs: 10 }, 'applied', 5);
    executor.report(task, 'w/1', { mode: 'fail', text: 'e' }, 'applied', 5);
    executor.report(task, 'w/1', { mode: 'complete', text: 'x' }, 'lease-lost', 5);
    executor.report(task, 'w/1', { mode: 'complete', text: 'x' }, 'unwritten', 5);
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'task completed'],
      ['warn', 'task failed, retrying'],
      ['error', 'task failed permanently'],
      ['warn', 'task outcome rejected: lease no longer held'],
      ['error', 'could not record task outcome; the lease will expire and the task will run again'],
    ]);
    expect(logger.lines[1].fields).toMatchObject({ task_id: 'a', worker_id: 'w/1', attempt: 2, retry: 2, max_retry: 3, backoff_ms: 10 });
  });
});

describe('TaskExecutor: payloads as the task type sees them', () => {
  class Size {
    @IsInt({ message: 'width must be a positive integer' })
    @Min(1, { message: 'width must be a positive integer' })
    width: number;

    area(): number {
      return this.width * this.width;
    }
  }

  const recording = () => {
    const seen: unknown[] = [];
    const handler: TaskHandler = {
      handle: (payload: unknown) => {
        seen.push(payload);
        return Promise.resolve('ok');
      },
    };
    return { seen, handler };
  };
  const run = (executor: TaskExecutor, payload: string, extra = {}) =>
    executor.run(leased('a', 1, { type: 'custom', payload, retries: 0, maxRetry: 3, ...extra }), 'w/1', new AbortController().signal);
  const make = (handler: TaskHandler, options = {}) =>
    new TaskExecutor(registryOf({ custom: handler }, { custom: options }), { delayMs: () => 100 }, loadAppConfig({}), new RecordingLogger() as unknown as PinoLogger);

  it('hands a JSON type the stored JSON value decoded', async () => {
    const { seen, handler } = recording();
    const executor = make(handler);
    for (const value of [{ a: [1, null] }, [1, 2], null, 7, 'plain text']) {
      await expect(run(executor, encodeJsonValue(value))).resolves.toEqual({ mode: 'complete', text: 'ok' });
    }
    expect(seen).toEqual([{ a: [1, null] }, [1, 2], null, 7, 'plain text']);
  });

  it('hands a payloadDto type an instance of its class', async () => {
    const { seen, handler } = recording();
    await run(make(handler, { payloadDto: Size }), encodeJsonValue({ width: 3 }));
    expect(seen[0]).toBeInstanceOf(Size);
    expect((seen[0] as Size).area()).toBe(9);
  });

  it.each<[string, object, string]>([
    ['breaks its payloadDto', { payloadDto: Size }, encodeJsonValue({ width: -1 })],
    ['is not an object for a payloadDto', { payloadDto: Size }, encodeJsonValue([1])],
    ['is not a string for a string type', { payload: 'string' }, encodeJsonValue({ width: 1 })],
  ])('fails at once, retries left, when the payload %s', async (_what, options, payload) => {
    const { seen, handler } = recording();
    const outcome = await run(make(handler, options), payload);
    expect(outcome).toEqual({ mode: 'fail', text: expect.stringMatching(/^payload/) });
    expect(seen).toEqual([]);
  });

  it('names the field of a payloadDto that fails', async () => {
    const { handler } = recording();
    await expect(run(make(handler, { payloadDto: Size }), encodeJsonValue({ width: 0 }))).resolves.toEqual({
      mode: 'fail',
      text: 'payload.width must be a positive integer',
    });
  });
});
