import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { hostname } from 'node:os';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { Clock, CLOCK } from '../common/clock';
import { mathRandom, RANDOM, RandomSource } from '../common/random';
import { settlesWithin } from '../common/deadline';
import { ProcessState } from '../lifecycle/process-state';
import { Lease, QueueRepository } from '../queue/queue.repository';
import { LeasedTask } from '../queue/task.model';
import { CancelSubscriber } from './cancel-subscriber';
import { Fetcher } from './fetcher';
import { LeaseHeartbeat } from './lease-heartbeat';
import { HeldAttempt, LeaseTable } from './lease-table';
import { OutcomeWriter } from './outcome-writer';
import { PrefetchPolicy } from './prefetch-policy';
import { TypeSlots } from './type-slots';
import { ServedQueues } from './served-queues';
import { AbortReason, TaskExecutor, TaskOutcome } from './task-executor';

/** Most payload bytes a process holds in its prefetch buffer. */
export const PREFETCH_MAX_BYTES = 8 * 1024 * 1024;
/**
 * Time the last writes of a shutdown get after SHUTDOWN_TIMEOUT_MS (handing back tasks that did not
 * finish), and the bound of each remaining step. The whole shutdown of the pool ends within
 * SHUTDOWN_TIMEOUT_MS + this, whatever Redis does; what is not written by then is recovered from
 * its lease, without spending a retry when the handler never started.
 */
export const SHUTDOWN_WRITE_MARGIN_MS = 3000;

/**
 * Runs up to WORKER_COUNT tasks at a time in this process. The parts, as in asynq's processor:
 * - Fetcher: the fetch loop and the prefetch buffer (about 20 ms of work per slot, at most
 *   WORKER_PREFETCH tasks and PREFETCH_MAX_BYTES of payload), so a freed slot starts the next task
 *   without a round trip;
 * - LeaseTable: every attempt held, keyed by lease (id, token); LeaseHeartbeat extends them;
 * - CancelSubscriber: deleted tasks, from any process;
 * - OutcomeWriter: batched writes of handler starts and outcomes;
 * - this class: the slots, and one shutdown sequence.
 * Fetching starts only once the app has booted (listener bound), so a process that fails to boot
 * has leased nothing.
 */
@Injectable()
export class WorkerPoolService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  readonly processId = `${hostname()}-${process.pid}`;
  private readonly table = new LeaseTable();
  private readonly freeSlots: number[] = [];
  /** Handlers running per type, against each type's @TaskHandler concurrency. */
  private readonly typeSlots: TypeSlots;
  /** `<processId>/<slot>` by slot (index 0 unused): built once, not per task. */
  private readonly workerIds: string[] = [];
  /** Resolved when no handler runs (shutdown waits for them). */
  private idleWaiters: Array<() => void> = [];
  private readonly prefetch: PrefetchPolicy;
  private readonly fetcher: Fetcher;
  /** The queues this process serves (WORKER_QUEUES), their fetch order and their wait. */
  readonly queues: ServedQueues;
  /** Public so specs can run a heartbeat tick without waiting a third of a lease. */
  readonly heartbeat: LeaseHeartbeat;
  private readonly cancels: CancelSubscriber;
  private started = false;
  private stopping = false;
  private shutdown?: Promise<void>;

  constructor(
    queue: QueueRepository,
    private readonly executor: TaskExecutor,
    private readonly writer: OutcomeWriter,
    private readonly state: ProcessState,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('WorkerPool') private readonly logger: PinoLogger,
    @Optional() @Inject(RANDOM) random: RandomSource = mathRandom,
  ) {
    const { concurrency, prefetch, leaseMs } = config.worker;
    for (let slot = concurrency; slot >= 1; slot -= 1) this.freeSlots.push(slot);
    for (let slot = 0; slot <= concurrency; slot += 1) this.workerIds.push(`${this.processId}/${slot}`);
    this.typeSlots = new TypeSlots((type) => executor.concurrencyOf(type));
    this.prefetch = new PrefetchPolicy(prefetch, concurrency);
    this.queues = new ServedQueues(queue, config.worker.queues, random, logger);
    this.fetcher = new Fetcher(
      this.queues,
      this.table,
      this.prefetch,
      { concurrency, leaseMs, maxBufferBytes: PREFETCH_MAX_BYTES },
      () => this.runningCount,
      () => this.startBuffered(),
      logger,
    );
    this.heartbeat = new LeaseHeartbeat(this.table, queue, leaseMs, (lease) => this.onLeaseLost(lease), logger);
    this.cancels = new CancelSubscriber(queue, (id) => this.abortTask(id, 'deleted'));
    this.queues.onChange((names) => this.cancels.listen(names));
  }

  get concurrency(): number {
    return this.config.worker.concurrency;
  }

  /** Handlers running now. */
  get runningCount(): number {
    return this.concurrency - this.freeSlots.length;
  }

  /** Attempts held: buffered, running or being settled. */
  get heldCount(): number {
    return this.table.size;
  }

  onModuleInit(): void {
    this.state.registerWorkerProbe(() => this.probe());
    this.state.onBooted(() => this.start());
  }

  /** Starts fetching; called once the app has booted. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    if (this.concurrency === 0) {
      this.logger.warn('WORKER_COUNT is 0: this process runs no tasks');
      return;
    }
    this.queues.start();
    this.heartbeat.start();
    this.fetcher.start();
    this.logger.info(
      {
        process_id: this.processId,
        concurrency: this.concurrency,
        max_prefetch: this.config.worker.prefetch,
        queues: this.config.worker.queues.weighted ?? 'every queue',
        strict: this.config.worker.queues.strict,
      },
      'worker pool started',
    );
  }

  /** Phase 1 of shutdown: stop taking new tasks. */
  onModuleDestroy(): void {
    this.stopping = true;
    void this.fetcher.stop();
    void this.queues.stop();
  }

  /**
   * Phase 2 of shutdown. Buffered tasks go back at once; running ones get SHUTDOWN_TIMEOUT_MS to
   * finish (their results are saved), then are aborted and go back to pending without spending a
   * retry. Every step has a deadline; writes give up at the last one. Idempotent: a second call
   * (WorkerPresenceService waits for the pool before it leaves) gets the same shutdown.
   */
  beforeApplicationShutdown(): Promise<void> {
    this.shutdown ??= this.shutDown();
    return this.shutdown;
  }

  private async shutDown(): Promise<void> {
    this.onModuleDestroy();
    if (!this.started || this.concurrency === 0) return;
    const began = this.clock.now();
    const handlersUntil = began + this.config.worker.shutdownTimeoutMs;
    const deadline = handlersUntil + SHUTDOWN_WRITE_MARGIN_MS;
    const left = (until: number) => until - this.clock.now();
    this.writer.cutOff(deadline);

    await settlesWithin(this.fetcher.stop(), left(deadline));
    for (const task of this.fetcher.takeAll()) {
      const held = this.table.get(task);
      if (held) this.settle(held, { mode: 'requeue', text: '' }, began, '-');
    }
    if (this.runningCount > 0) {
      this.logger.info({ running: this.runningCount, timeout_ms: this.config.worker.shutdownTimeoutMs }, 'waiting for running tasks to finish');
      if (!(await settlesWithin(this.whenNoneRunning(), left(handlersUntil)))) {
        this.logger.warn({ running: this.runningCount }, 'shutdown timeout: aborting running tasks and requeueing them');
        for (const held of this.table.values()) held.attempt?.abort('shutdown' satisfies AbortReason);
        await settlesWithin(this.whenNoneRunning(), left(deadline));
      }
    }
    const settled = await settlesWithin(this.table.whenEmpty(), left(deadline));
    await settlesWithin(this.writer.drain(), left(deadline));
    await settlesWithin(this.heartbeat.stop(), Math.max(left(deadline), 0) + this.config.redis.commandTimeoutMs);
    this.cancels.stop();
    if (settled) this.logger.info('worker pool stopped');
    else this.logger.warn({ unsettled: this.table.size }, 'worker pool stopped; tasks not handed back will be recovered when their lease expires');
  }

  /** Stops every attempt of a task held here (deleted in some process). */
  abortTask(taskId: string, reason: 'deleted'): void {
    for (const held of this.table.withId(taskId)) this.abortAttempt(held, reason);
  }

  private onLeaseLost(lease: Lease): void {
    const held = this.table.get(lease);
    if (held) this.abortAttempt(held, 'lease-lost');
  }

  /** Aborts a running handler, or drops a buffered task; an attempt being settled is left alone (fencing decides). */
  private abortAttempt(held: HeldAttempt, reason: 'deleted' | 'lease-lost'): void {
    if (held.state === 'running') {
      held.attempt?.abort(reason);
    } else if (held.state === 'buffered' && this.fetcher.remove(held.task)) {
      this.executor.report(held.task, '-', { mode: 'discard', reason }, 'unwritten', 0);
      this.release(held.task);
    }
  }

  /** Whether a buffered task may start now: its type is under its concurrency. */
  private readonly canStart = (task: LeasedTask): boolean => this.typeSlots.hasRoom(task.type);

  private startBuffered(): void {
    while (this.freeSlots.length > 0 && !this.stopping) {
      // A task whose type is at its concurrency stays buffered (leased, heart-beaten) behind the ones that can start.
      const task = this.fetcher.take(this.canStart);
      if (!task) break;
      const held = this.table.get(task);
      if (!held) continue;
      const slot = this.freeSlots.pop() as number;
      this.typeSlots.take(task.type);
      this.runAttempt(held, slot);
    }
    // Taking from the buffer may have made it worth fetching again.
    this.fetcher.wake();
  }

  private runAttempt(held: HeldAttempt, slot: number): void {
    const { task } = held;
    const workerId = this.workerIds[slot];
    held.state = 'running';
    held.startedAt = this.clock.now();
    // Recorded so that a lease recovered from a task that never started costs no retry (answered later, never from this call).
    this.writer.submit({ lease: task, mode: 'start', text: '', workerId }, (written) => {
      if (written === 'not-found') held.attempt?.abort('deleted');
      else if (written === 'lease-lost') held.attempt?.abort('lease-lost');
    });
    const ended = (outcome: TaskOutcome) => this.endAttempt(held, slot, workerId, outcome);
    try {
      held.attempt = this.executor.start(task, workerId, ended);
    } catch (err) {
      // start() calls `ended` only later, and never when it throws.
      queueMicrotask(() => ended({ mode: 'fail', text: `task execution crashed: ${err instanceof Error ? err.message : String(err)}` }));
    }
  }

  private endAttempt(held: HeldAttempt, slot: number, workerId: string, outcome: TaskOutcome): void {
    const started = held.startedAt as number;
    held.state = 'settling';
    held.attempt = undefined;
    held.startedAt = undefined;
    this.prefetch.record(this.clock.now() - started);
    // The slot is free as soon as the handler is done; the outcome is written in the background.
    this.freeSlots.push(slot);
    this.typeSlots.release(held.task.type);
    this.settle(held, outcome, started, workerId);
    if (this.freeSlots.length === this.concurrency && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.startBuffered();
  }

  /** Resolves once no handler runs. */
  private whenNoneRunning(): Promise<void> {
    if (this.runningCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes the outcome (batched), logs it, and releases the attempt once it is written. */
  private settle(held: HeldAttempt, outcome: TaskOutcome, started: number, workerId: string): void {
    const { task } = held;
    held.state = 'settling';
    if (outcome.mode === 'discard') {
      this.executor.report(task, workerId, outcome, 'unwritten', this.clock.now() - started);
      this.release(task);
      return;
    }
    this.writer.submit({ lease: task, ...outcome }, (written) => {
      this.executor.report(task, workerId, outcome, written, this.clock.now() - started);
      this.release(task);
    });
  }

  private release(lease: LeasedTask): void {
    this.table.release(lease);
    this.fetcher.wake();
  }

  /**
   * Unhealthy until fetching starts, once it stops (shutdown), and when every slot has been busy for longer
   * than its handler may run (the task's timeout_ms or TASK_TIMEOUT_MS frees slots, so only a blocked
   * event loop gets there).
   */
  private probe(): { healthy: boolean; details: Record<string, unknown> } {
    const details = { running: this.runningCount, held: this.table.size, concurrency: this.concurrency, process_id: this.processId };
    if (this.concurrency === 0) return { healthy: true, details };
    if (!this.started) return { healthy: false, details: { ...details, reason: 'not started' } };
    const now = this.clock.now();
    let stuck = 0;
    for (const held of this.table.values()) {
      // An attempt may run for its task's own timeout_ms, else TASK_TIMEOUT_MS.
      const limitMs = (held.task.timeoutMs ?? this.config.worker.taskTimeoutMs) + this.config.worker.leaseMs;
      if (held.startedAt !== undefined && now - held.startedAt > limitMs) stuck += 1;
    }
    const healthy = this.fetcher.running && stuck < this.concurrency;
    return { healthy, details: { ...details, stuck } };
  }
}
