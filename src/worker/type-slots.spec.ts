import type { PinoLogger } from 'nestjs-pino';
import { loadAppConfig } from '../config/app-config';
import { ProcessState } from '../lifecycle/process-state';
import type { QueueRepository } from '../queue/queue.repository';
import type { TaskContext, TaskHandler } from '../task-types/task-handler';
import { OutcomeWriter } from './outcome-writer';
import { TaskExecutor } from './task-executor';
import { FakeQueue, flush, leased, ManualClock, ManualHandler, RecordingLogger, registryOf } from './testing/fakes';
import { TypeSlots } from './type-slots';
import { WorkerPoolService } from './worker-pool.service';

/** A handler that counts its own invocations in progress, and whose attempts the spec ends by hand. */
class CountingHandler implements TaskHandler {
  active = 0;
  maxActive = 0;
  readonly pending: Array<{ id: string; finish: () => void }> = [];

  handle(_payload: unknown, { taskId }: TaskContext): Promise<string> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise<string>((resolve) => this.pending.push({ id: taskId, finish: () => resolve(`done ${taskId}`) })).finally(() => {
      this.active -= 1;
    });
  }

  /** Ends the oldest attempt still running. */
  finishOne(): void {
    this.pending.shift()?.finish();
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i += 1) {
    if (check()) return;
    await flush();
  }
  throw new Error(`never happened: ${what}`);
}

function makePool(workers: number, limit: number) {
  const config = loadAppConfig({ WORKER_COUNT: String(workers), WORKER_PREFETCH: '20', SHUTDOWN_TIMEOUT_MS: '1000' });
  const queue = new FakeQueue();
  const clock = new ManualClock();
  const logger = new RecordingLogger() as unknown as PinoLogger;
  const limited = new CountingHandler();
  const other = new ManualHandler();
  const registry = registryOf({ limited, other }, { limited: { concurrency: limit } });
  const executor = new TaskExecutor(registry, { delayMs: () => 1000 }, config, logger);
  const writer = new OutcomeWriter(queue as unknown as QueueRepository, clock, config);
  const state = new ProcessState();
  const pool = new WorkerPoolService(queue as unknown as QueueRepository, executor, writer, state, clock, config, logger);
  pool.onModuleInit();
  return { pool, queue, limited, other, state };
}

describe('TypeSlots', () => {
  it('counts running handlers per type against each type limit', () => {
    const slots = new TypeSlots((type) => (type === 'a' ? 2 : undefined));
    expect(slots.hasRoom('a')).toBe(true);
    slots.take('a');
    slots.take('a');
    expect(slots.hasRoom('a')).toBe(false);
    for (let i = 0; i < 50; i += 1) slots.take('b');
    expect(slots.hasRoom('b')).toBe(true);
    slots.release('a');
    expect(slots.hasRoom('a')).toBe(true);
    slots.take('a');
    expect(slots.hasRoom('a')).toBe(false);
  });
});

describe('WorkerPoolService: per-type concurrency', () => {
  let t: ReturnType<typeof makePool> | undefined;

  afterEach(async () => {
    if (!t) return;
    while (t.limited.pending.length > 0) t.limited.finishOne();
    for (const a of t.other.attempts) a.resolve('end');
    await t.pool.beforeApplicationShutdown();
    t = undefined;
  });

  it('runs at most `concurrency` tasks of a type at once; the rest wait leased, and tasks of other types pass them', async () => {
    t = makePool(4, 2);
    const { queue, limited, other, pool, state } = t;
    // Five of the limited type first, then two others: the others must not wait behind them.
    queue.push(...[1, 2, 3, 4, 5].map((n) => leased(`l${n}`, 1, { type: 'limited' })), leased('o1', 1, { type: 'other' }), leased('o2', 1, { type: 'other' }));
    state.markBooted();
    await until(() => limited.active === 2 && other.attempts.length === 2, 'two limited and two other tasks to run');
    expect(pool.runningCount).toBe(4);
    expect(pool.heldCount).toBe(7);

    // The three waiting ones are held and their leases extended.
    await pool.heartbeat.tick();
    expect(queue.heartbeats.at(-1)?.map((l) => l.id).sort()).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'o1', 'o2']);

    // Free slots do not let more of the type start: still two after the other tasks end.
    for (const a of other.attempts) a.resolve('ok');
    await until(() => pool.runningCount === 2, 'the other tasks to end');
    expect(limited.active).toBe(2);

    // Each end of a limited task starts the next one, oldest first.
    const startedOrder: string[] = limited.pending.map((p) => p.id);
    while (startedOrder.length < 5) {
      limited.finishOne();
      await until(() => limited.pending.length === Math.min(2, 5 - (startedOrder.length - 1)) && limited.active === limited.pending.length, 'the next one');
      for (const p of limited.pending) if (!startedOrder.includes(p.id)) startedOrder.push(p.id);
    }
    while (limited.pending.length > 0) limited.finishOne();
    await until(() => queue.outcomes().length === 7, 'every outcome to be written');

    expect(startedOrder).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
    expect(limited.maxActive).toBe(2);
    expect(queue.outcomes().every((o) => o.mode === 'complete')).toBe(true);
  });

  it('a type without a limit uses every slot', async () => {
    t = makePool(3, 1);
    t.queue.push(...[1, 2, 3, 4].map((n) => leased(`o${n}`, 1, { type: 'other' })));
    t.state.markBooted();
    await t.other.started(3);
    expect(t.pool.runningCount).toBe(3);
  });

  it('with concurrency 1, tasks of the type run one after another', async () => {
    t = makePool(3, 1);
    t.queue.push(...[1, 2, 3].map((n) => leased(`l${n}`, 1, { type: 'limited' })));
    t.state.markBooted();
    for (let done = 0; done < 3; done += 1) {
      await until(() => t!.limited.pending.length === 1, `task ${done + 1} to start`);
      await flush();
      expect(t.limited.active).toBe(1);
      t.limited.finishOne();
    }
    await until(() => t!.queue.outcomes().length === 3, 'every outcome');
    expect(t.limited.maxActive).toBe(1);
  });
});
