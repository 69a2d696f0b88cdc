import { RateLimitedReporter } from './rate-limited-logger';

export interface LoopLogger {
  error(fields: object, message: string): void;
}

/**
 * The shape every background loop shares (as in asynq): start, stop, one tick, an interval. A tick
 * never throws out of the loop: failures are logged at most once per `reportEveryMs` and the loop
 * goes on at its interval, so a Redis outage neither kills the loop nor spins the CPU. A tick may
 * resolve to the delay (ms) before the next one instead of the interval (the scheduler sleeps until
 * the earliest due time).
 */
export class BackgroundLoop {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private stopped = true;
  private readonly reporter: RateLimitedReporter;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<number | void>,
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

  /** Runs one tick now (used by tests and by callers that know work is waiting); resolves to the delay it asked for. */
  async runOnce(): Promise<number | undefined> {
    try {
      const delayMs = await this.tick();
      this.reporter.reset();
      return typeof delayMs === 'number' ? delayMs : undefined;
    } catch (err) {
      if (this.reportedElsewhere(err)) return undefined;
      this.reporter.report((suppressed) =>
        this.logger.error(
          { loop: this.name, err: err instanceof Error ? err.message : String(err), suppressed },
          `${this.name} tick failed; retrying every ${this.intervalMs} ms`,
        ),
      );
      return undefined;
    }
  }

  private schedule(delayMs = this.intervalMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce().then((next) => {
        this.current = undefined;
        this.schedule(next);
      });
    }, Math.max(0, delayMs));
    this.timer.unref();
  }
}
