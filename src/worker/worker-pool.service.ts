import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { hostname } from 'node:os';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { BackgroundLoop } from '../common/background-loop';
import { Clock, CLOCK } from '../common/clock';
import { RateLimitedReporter } from '../common/rate-limited-logger';
import { sleep } from '../common/sleep';
import { ProcessState } from '../lifecycle/process-state';
import { QueueUnavailableError } from '../queue/queue-errors';
import { QueueRepository, Settlement } from '../queue/queue.repository';
import { LeasedTask } from '../queue/task.model';
import { OutcomeWriter } from './outcome-writer';
import { PrefetchPolicy } from './prefetch-policy';
import { AbortReason, TaskExecutor, TaskOutcome } from './task-executor';

/** A task this process holds a lease on: waiting in the prefetch buffer, running, or being settled. */
interface HeldTask {
  task: LeasedTask;
  /** Set while its handler runs. */
  controller?: AbortController;
  /** Settles when the task is no longer held (its outcome written, or handed back). */
  released?: Promise<void>;
}

const FETCH_ERROR_PAUSE_MS = 1000;

/**
 * Runs up to WORKER_COUNT tasks at a time in this process, holding more leased tasks in memory so a
 * freed slot starts the next task without a round trip (as many as PrefetchPolicy allows: about 20 ms
 * of work per slot, at most WORKER_PREFETCH).
 *
 * One fetch loop leases as many due tasks as there is room for in one script call; when none is due
 * it blocks on the wake-up marker (BZPOPMIN) until an enqueue or retry sets it, or until the earliest
 * waiting task is due. Outcomes are written in batches (OutcomeWriter). One heartbeat script call
 * every lease/3 extends the leases of every held task. Deleted tasks are aborted through the cancel
 * channel.
 *
 * Shutdown: onModuleDestroy stops fetching; beforeApplicationShutdown hands prefetched tasks back,
 * waits for running tasks up to SHUTDOWN_TIMEOUT_MS (their results are saved), then aborts the rest
 * and puts them back to pending without spending a retry. Redis closes after this phase.
 */
@Injectable()
export class WorkerPoolService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  readonly processId = `${hostname()}-${process.pid}`;
  private readonly held = new Map<string, HeldTask>();
  private readonly buffer: LeasedTask[] = [];
  private readonly freeSlots: number[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly stopController = new AbortController();
  private roomWaiters: Array<() => void> = [];
  private fetchLoop?: Promise<void>;
  private readonly heartbeat: BackgroundLoop;
  private unsubscribeCancel?: () => Promise<void>;
  private readonly fetchErrors = new RateLimitedReporter(30_000);
  private readonly prefetch: PrefetchPolicy;

  constructor(
    private readonly queue: QueueRepository,
    private readonly executor: TaskExecutor,
    private readonly writer: OutcomeWriter,
    private readonly state: ProcessState,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('WorkerPool') private readonly logger: PinoLogger,
  ) {
    for (let slot = config.worker.concurrency; slot >= 1; slot -= 1) this.freeSlots.push(slot);
    this.prefetch = new PrefetchPolicy(config.worker.prefetch, config.worker.concurrency);
    this.heartbeat = new BackgroundLoop(
      'lease heartbeat',
      Math.floor(config.worker.leaseMs / 3),
      () => this.extendLeases(),
      this.logger,
      (err) => err instanceof QueueUnavailableError,
    );
  }

  get concurrency(): number {
    return this.config.worker.concurrency;
  }

  /** Tasks whose handler is running now. */
  get runningCount(): number {
    return this.concurrency - this.freeSlots.length;
  }

  onModuleInit(): void {
    this.state.registerWorkerProbe(() => ({
      healthy: this.concurrency === 0 || (this.fetchLoop !== undefined && !this.stopController.signal.aborted),
      details: { running: this.runningCount, held: this.held.size, concurrency: this.concurrency, process_id: this.processId },
    }));
    if (this.concurrency === 0) {
      this.logger.warn('WORKER_COUNT is 0: this process runs no tasks');
      return;
    }
    this.unsubscribeCancel = this.queue.onCancel((id) => this.abort(id, 'deleted'));
    this.heartbeat.start();
    this.fetchLoop = this.runFetchLoop();
    this.logger.info(
      { process_id: this.processId, concurrency: this.concurrency, max_prefetch: this.config.worker.prefetch },
      'worker pool started',
    );
  }

  /** Phase 1 of shutdown: stop taking new tasks. */
  onModuleDestroy(): void {
    if (this.stopController.signal.aborted) return;
    this.stopController.abort();
    this.wakeFetchLoop();
  }

  /** Phase 2 of shutdown: hand back prefetched tasks, let running ones finish, then hand back the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await this.fetchLoop;
    for (const task of this.buffer.splice(0)) this.settle(task, { kind: 'requeue' }, this.clock.now(), '-');
    if (this.running.size > 0) {
      this.logger.info(
        { running: this.running.size, timeout_ms: this.config.worker.shutdownTimeoutMs },
        'waiting for running tasks to finish',
      );
      const timeout = new AbortController();
      const finished = await Promise.race([
        Promise.all(this.running).then(() => true),
        sleep(this.config.worker.shutdownTimeoutMs, timeout.signal).then(() => false),
      ]);
      timeout.abort();
      if (!finished) {
        this.logger.warn({ running: this.running.size }, 'shutdown timeout: aborting running tasks and requeueing them');
        for (const held of this.held.values()) held.controller?.abort('shutdown' satisfies AbortReason);
        await Promise.all(this.running);
      }
    }
    await Promise.all([...this.held.values()].map((h) => h.released));
    await this.writer.drain();
    await this.heartbeat.stop();
    await this.unsubscribeCancel?.();
    this.logger.info('worker pool stopped');
  }

  /** Stops a task this process holds: aborts its handler, or drops it from the prefetch buffer. */
  abort(taskId: string, reason: AbortReason): void {
    const held = this.held.get(taskId);
    if (!held) return;
    if (held.controller) {
      held.controller.abort(reason);
      return;
    }
    const i = this.buffer.findIndex((t) => t.id === taskId);
    if (i >= 0) {
      const [task] = this.buffer.splice(i, 1);
      this.executor.report(task, '-', { kind: 'discard', reason }, 'unwritten', 0);
      this.release(task.id);
    }
  }

  private async runFetchLoop(): Promise<void> {
    const stop = this.stopController.signal;
    await this.queue.whenConnected(stop);
    while (!stop.aborted) {
      // Fetch when the buffer is down to half its size (batching the fetches); otherwise wait for room.
      // Tasks whose outcome is being written do not count: settling overlaps the next fetch.
      const prefetch = this.prefetch.size;
      const room = this.concurrency + prefetch - this.buffer.length - this.runningCount;
      if (room <= 0 || this.buffer.length > prefetch / 2) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        continue;
      }
      try {
        const now = this.clock.now();
        const fetched = await this.queue.fetch(room, now, now + this.config.worker.leaseMs);
        for (const task of fetched.tasks) {
          this.held.set(task.id, { task });
          this.buffer.push(task);
        }
        this.startBuffered();
        if (fetched.tasks.length > 0) continue;
        const wait = fetched.nextRunAt === undefined ? Infinity : fetched.nextRunAt - this.clock.now();
        if (wait <= 0) continue;
        await this.queue.waitForWork(wait, stop);
      } catch (err) {
        if (stop.aborted) break;
        // A Redis outage is reported once, by RedisConnections; anything else is ours to say.
        if (!(err instanceof QueueUnavailableError)) {
          this.fetchErrors.report((suppressed) =>
            this.logger.error({ err: err instanceof Error ? err.message : String(err), suppressed }, 'cannot fetch tasks; retrying'),
          );
        }
        await sleep(FETCH_ERROR_PAUSE_MS, stop);
      }
    }
  }

  private startBuffered(): void {
    while (this.freeSlots.length > 0 && this.buffer.length > 0 && !this.stopController.signal.aborted) {
      const task = this.buffer.shift() as LeasedTask;
      const slot = this.freeSlots.pop() as number;
      const run = this.runTask(task, slot);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
    // Taking from the buffer may have made it worth fetching again.
    this.wakeFetchLoop();
  }

  private async runTask(task: LeasedTask, slot: number): Promise<void> {
    const held = this.held.get(task.id);
    const workerId = `${this.processId}/${slot}`;
    const controller = new AbortController();
    if (held) held.controller = controller;
    const started = this.clock.now();
    let outcome: TaskOutcome;
    try {
      outcome = await this.executor.run(task, workerId, controller.signal);
    } catch (err) {
      outcome = { kind: 'fail', error: `task execution crashed: ${String(err)}` };
    }
    if (held) held.controller = undefined;
    this.prefetch.record(this.clock.now() - started);
    // The slot is free as soon as the handler is done; the outcome is written in the background.
    this.freeSlots.push(slot);
    this.settle(task, outcome, started, workerId);
    this.startBuffered();
  }

  /** Writes the outcome (batched), logs it, and releases the task once it is written. */
  private settle(task: LeasedTask, outcome: TaskOutcome, started: number, workerId: string): void {
    const held = this.held.get(task.id);
    if (outcome.kind === 'discard') {
      this.executor.report(task, workerId, outcome, 'unwritten', this.clock.now() - started);
      this.release(task.id);
      return;
    }
    const settlement: Settlement =
      outcome.kind === 'complete'
        ? { lease: task, mode: 'complete', text: outcome.result }
        : outcome.kind === 'retry'
          ? { lease: task, mode: 'retry', text: outcome.error, delayMs: outcome.backoffMs }
          : outcome.kind === 'fail'
            ? { lease: task, mode: 'fail', text: outcome.error }
            : { lease: task, mode: 'requeue', text: '' };
    const released = this.writer.write(settlement).then((written) => {
      this.executor.report(task, workerId, outcome, written, this.clock.now() - started);
      this.release(task.id);
    });
    if (held) held.released = released;
  }

  private release(taskId: string): void {
    this.held.delete(taskId);
    this.wakeFetchLoop();
  }

  private wakeFetchLoop(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async extendLeases(): Promise<void> {
    const leases = [...this.held.values()].map((h) => h.task);
    if (leases.length === 0) return;
    const lost = await this.queue.heartbeat(leases, this.clock.now() + this.config.worker.leaseMs);
    for (const id of lost) this.abort(id, 'lease-lost');
  }
}
