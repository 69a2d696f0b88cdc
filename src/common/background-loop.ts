import { RateLimitedReporter } from './rate-limited-logger';

export interface LoopLogger {
  error(fields: object, message: string): void;
}

/**
 * The shape every background loop shares (as in asynq): start, stop, one tick, an interval. A tick
 * never throws out of the loop: failures are logged at most once per `reportEveryMs` and the loop
 * goes on at its interval, so a Redis outage neither kills the loop nor spins the CPU.
 */
export class BackgroundLoop {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private stopped = true;
  private readonly reporter: RateLimitedReporter;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
    private readonly logger: LoopLogger,
    /** Failures already reported elsewhere (a Redis outage has one voice: RedisConnections). */
    private readonly reportedElsewhere: (err: unknown) => boolean = () => false,
    reportEveryMs = 30_000,
  ) {
    this.reporter = new RateLimitedReporter(reportEveryMs);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops scheduling and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** Runs one tick now (used by tests and by callers that know work is waiting). */
  async runOnce(): Promise<void> {
    try {
      await this.tick();
      this.reporter.reset();
    } catch (err) {
      if (this.reportedElsewhere(err)) return;
      this.reporter.report((suppressed) =>
        this.logger.error(
          { loop: this.name, err: err instanceof Error ? err.message : String(err), suppressed },
          `${this.name} tick failed; retrying every ${this.intervalMs} ms`,
        ),
      );
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce().finally(() => {
        this.current = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}
