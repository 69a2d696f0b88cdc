import { RateLimitedReporter } from '../common/rate-limited-logger';

/** Where the two lines of an outage go (RedisConnections' logger). */
export interface OutageLog {
  /** Redis is unavailable: `error` is the last failure, `suppressed` how many failures were not logged since the last line. */
  unavailable(error: string, suppressed: number): void;
  /** Redis has answered without a failure for a while: the outage is over. */
  answersAgain(): void;
}

/** Repeat the "unavailable" line at most this often while failures go on. */
export const OUTAGE_REPEAT_MS = 30_000;
/** An outage ends when commands succeed and none has failed for this long. */
export const OUTAGE_QUIET_MS = 5000;

/**
 * The state of a Redis outage as the process sees it, from every command's success or failure. A slow
 * Redis fails some commands while others succeed: a single success must not end the outage (that
 * would log "answers again" and re-arm the next "unavailable" line once per failure). The outage ends
 * only on a success after OUTAGE_QUIET_MS without any failure.
 */
export class RedisOutageReporter {
  /** Time of the last failure of the current outage; undefined when there is none. */
  private lastFailureAt?: number;
  private readonly lines: RateLimitedReporter;

  constructor(
    private readonly log: OutageLog,
    private readonly now: () => number = Date.now,
    private readonly quietMs = OUTAGE_QUIET_MS,
    repeatMs = OUTAGE_REPEAT_MS,
  ) {
    this.lines = new RateLimitedReporter(repeatMs, now);
  }

  get failing(): boolean {
    return this.lastFailureAt !== undefined;
  }

  failure(err: unknown): void {
    this.lastFailureAt = this.now();
    const error = err instanceof Error ? err.message : String(err);
    this.lines.report((suppressed) => this.log.unavailable(error, suppressed));
  }

  /** Called after every successful command: one comparison unless an outage is going on. */
  success(): void {
    if (this.lastFailureAt === undefined || this.now() - this.lastFailureAt < this.quietMs) return;
    this.lastFailureAt = undefined;
    this.lines.reset();
    this.log.answersAgain();
  }
}
