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
import { QueueRepository } from '../queue/queue.repository';
import { LeasedTask } from '../queue/task.model';
import { AbortReason, TaskExecutor } from './task-executor';

interface RunningTask {
  task: LeasedTask;
  controller: AbortController;
  done: Promise<void>;
}

const FETCH_ERROR_PAUSE_MS = 1000;

/**
 * Runs up to WORKER_COUNT tasks at a time in this process.
 *
 * One fetch loop leases as many due tasks as there are free slots in one script call; when none is
 * due it blocks on the wake-up marker (BZPOPMIN) until an enqueue or retry sets it, or until the
 * earliest waiting task is due. A heartbeat extends the leases of all running tasks in one script
 * call every lease/3. Deleted tasks are aborted through the cancel channel.
 *
 * Shutdown: onModuleDestroy stops fetching; beforeApplicationShutdown waits for running tasks up to
 * SHUTDOWN_TIMEOUT_MS (their results are saved), then aborts the rest and puts them back to pending
 * without spending a retry. Redis closes after this, in onApplicationShutdown.
 */
@Injectable()
export class WorkerPoolService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  readonly processId = `${hostname()}-${process.pid}`;
  private readonly running = new Map<string, RunningTask>();
  private readonly freeSlots: number[] = [];
  private readonly stopController = new AbortController();
  private slotWaiters: Array<() => void> = [];
  private fetchLoop?: Promise<void>;
  private readonly heartbeat: BackgroundLoop;
  private unsubscribeCancel?: () => Promise<void>;
  private readonly fetchErrors = new RateLimitedReporter(30_000);

  constructor(
    private readonly queue: QueueRepository,
    private readonly executor: TaskExecutor,
    private readonly state: ProcessState,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('WorkerPool') private readonly logger: PinoLogger,
  ) {
    for (let slot = config.worker.concurrency; slot >= 1; slot -= 1) this.freeSlots.push(slot);
    this.heartbeat = new BackgroundLoop(
      'lease heartbeat',
      Math.floor(config.worker.leaseMs / 3),
      () => this.extendLeases(),
      this.logger,
    );
  }

  get concurrency(): number {
    return this.config.worker.concurrency;
  }

  get runningCount(): number {
    return this.running.size;
  }

  onModuleInit(): void {
    this.state.registerWorkerProbe(() => ({
      healthy: this.concurrency === 0 || (this.fetchLoop !== undefined && !this.stopController.signal.aborted),
      details: { running: this.running.size, concurrency: this.concurrency, process_id: this.processId },
    }));
    if (this.concurrency === 0) {
      this.logger.warn('WORKER_COUNT is 0: this process runs no tasks');
      return;
    }
    this.unsubscribeCancel = this.queue.onCancel((id) => this.abort(id, 'deleted'));
    this.heartbeat.start();
    this.fetchLoop = this.runFetchLoop();
    this.logger.info({ process_id: this.processId, concurrency: this.concurrency }, 'worker pool started');
  }

  /** Phase 1 of shutdown: stop taking new tasks. */
  onModuleDestroy(): void {
    if (this.stopController.signal.aborted) return;
    this.stopController.abort();
    this.wakeFetchLoop();
  }

  /** Phase 2 of shutdown: let running tasks finish, then hand back what is left. */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await this.fetchLoop;
    if (this.running.size > 0) {
      this.logger.info(
        { running: this.running.size, timeout_ms: this.config.worker.shutdownTimeoutMs },
        'waiting for running tasks to finish',
      );
      const drained = Promise.all([...this.running.values()].map((r) => r.done)).then(() => true);
      const timeout = new AbortController();
      const timedOut = sleep(this.config.worker.shutdownTimeoutMs, timeout.signal).then(() => false);
      const finished = await Promise.race([drained, timedOut]);
      timeout.abort();
      if (!finished) {
        this.logger.warn({ running: this.running.size }, 'shutdown timeout: aborting running tasks and requeueing them');
        for (const id of [...this.running.keys()]) this.abort(id, 'shutdown');
        await Promise.all([...this.running.values()].map((r) => r.done));
      }
    }
    await this.heartbeat.stop();
    await this.unsubscribeCancel?.();
    this.logger.info('worker pool stopped');
  }

  /** Aborts a running task of this process, if it runs here. */
  abort(taskId: string, reason: AbortReason): void {
    this.running.get(taskId)?.controller.abort(reason);
  }

  private async runFetchLoop(): Promise<void> {
    const stop = this.stopController.signal;
    await this.queue.whenConnected(stop);
    while (!stop.aborted) {
      if (this.freeSlots.length === 0) {
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      let nextRunAt: number | undefined;
      try {
        const now = this.clock.now();
        const fetched = await this.queue.fetch(this.freeSlots.length, now, now + this.config.worker.leaseMs);
        if (this.fetchErrors.reset()) this.logger.info('fetching tasks again');
        for (const task of fetched.tasks) this.start(task);
        if (fetched.tasks.length > 0) continue;
        nextRunAt = fetched.nextRunAt;
        const wait = nextRunAt === undefined ? Infinity : nextRunAt - this.clock.now();
        if (wait <= 0) continue;
        await this.queue.waitForWork(wait, stop);
      } catch (err) {
        if (stop.aborted) break;
        this.fetchErrors.report((suppressed) =>
          this.logger.error({ err: err instanceof Error ? err.message : String(err), suppressed }, 'cannot fetch tasks; retrying'),
        );
        await sleep(FETCH_ERROR_PAUSE_MS, stop);
      }
    }
  }

  private start(task: LeasedTask): void {
    const slot = this.freeSlots.pop() as number;
    const controller = new AbortController();
    const workerId = `${this.processId}/${slot}`;
    const done = this.executor
      .execute(task, workerId, controller.signal)
      .catch((err) => this.logger.error({ task_id: task.id, err: String(err) }, 'task execution crashed'))
      .finally(() => {
        this.running.delete(task.id);
        this.freeSlots.push(slot);
        this.wakeFetchLoop();
      });
    this.running.set(task.id, { task, controller, done });
  }

  private wakeFetchLoop(): void {
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async extendLeases(): Promise<void> {
    const leases = [...this.running.values()].map((r) => r.task);
    if (leases.length === 0) return;
    const lost = await this.queue.heartbeat(leases, this.clock.now() + this.config.worker.leaseMs);
    for (const id of lost) this.abort(id, 'lease-lost');
  }
}
