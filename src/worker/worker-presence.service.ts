import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { hostname } from 'node:os';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { BackgroundLoop } from '../common/background-loop';
import { Clock, CLOCK } from '../common/clock';
import { settlesWithin } from '../common/deadline';
import { ProcessState } from '../lifecycle/process-state';
import { QueueUnavailableError } from '../queue/queue-errors';
import { WorkerRegistry } from '../queue/worker-registry';
import { SHUTDOWN_WRITE_MARGIN_MS, WorkerPoolService } from './worker-pool.service';

/**
 * Keeps this worker process listed in GET /workers: a heartbeat every TASK_LEASE_MS / 3 writes its
 * entry with a TTL of TASK_LEASE_MS, so a process that dies drops out within one lease of its last
 * beat; it also beats at once when the served queues change, so `queues` is never a beat behind. On
 * shutdown it goes on beating while the pool drains (a draining process still holds leases),
 * then removes its entry; both waits are bounded.
 */
@Injectable()
export class WorkerPresenceService implements OnModuleInit, BeforeApplicationShutdown {
  readonly loop: BackgroundLoop;
  private readonly startedAt: number;
  private started = false;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly pool: WorkerPoolService,
    private readonly state: ProcessState,
    @Inject(CLOCK) clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger('WorkerPresence') logger: PinoLogger,
  ) {
    this.startedAt = clock.now();
    const isOutage = (err: unknown) => err instanceof QueueUnavailableError;
    this.loop = new BackgroundLoop('worker heartbeat', Math.floor(config.worker.leaseMs / 3), () => this.beat(), logger, isOutage);
  }

  onModuleInit(): void {
    this.state.onBooted(() => {
      this.started = true;
      void this.loop.runOnce();
      this.loop.start();
    });
    // Before boot the first beat carries the queues anyway.
    this.pool.queues.onChange(() => {
      if (this.started) void this.loop.runOnce();
    });
  }

  /** Writes this process's entry now. */
  beat(): Promise<void> {
    return this.registry.beat(
      {
        id: this.pool.processId,
        host: hostname(),
        pid: process.pid,
        role: this.config.role,
        queues: this.pool.queues.names,
        concurrency: this.pool.concurrency,
        inFlight: this.pool.runningCount,
        startedAt: this.startedAt,
      },
      this.config.worker.leaseMs,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.started) return;
    const { shutdownTimeoutMs } = this.config.worker;
    const { commandTimeoutMs } = this.config.redis;
    await settlesWithin(this.pool.beforeApplicationShutdown(), shutdownTimeoutMs + SHUTDOWN_WRITE_MARGIN_MS + commandTimeoutMs);
    await settlesWithin(this.loop.stop(), commandTimeoutMs);
    await settlesWithin(this.registry.leave(this.pool.processId), commandTimeoutMs);
  }
}
