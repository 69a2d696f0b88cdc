/** appendfsync of the run's redis-server (its AOF is what survives a Redis crash). */
export type FsyncMode = 'everysec' | 'always';

export interface ChaosOptions {
  /** Tasks to submit (distinct tasks; a 503 is retried with a new POST). */
  tasks: number;
  /** SIGKILLs of random worker processes, each followed by a replacement. */
  kills: number;
  /** SIGKILLs of redis-server, each followed by a restart on the same AOF. */
  redisRestarts: number;
  /** SIGSTOPs of a worker past its lease, then SIGCONT. */
  freezes: number;
  /** SIGTERMs of a worker with tasks in flight (graceful path), each followed by a replacement. */
  sigterms: number;
  /** Worker processes (APP_ROLE=worker) kept running. */
  workers: number;
  /** WORKER_COUNT of each worker process. */
  concurrency: number;
  fsync: FsyncMode;
  /** Target submission rate (tasks/s); the faults are spread over the submission phase. */
  rate: number;
  /** Concurrent POSTs at most. */
  submitConcurrency: number;
  /** TASK_LEASE_MS of the workers. */
  leaseMs: number;
  /** SLOW_TASK_MS of the workers. */
  slowTaskMs: number;
  /** Share of `slow` tasks; the rest are instant (echo, sum, reverse). */
  slowFraction: number;
  /** SHUTDOWN_TIMEOUT_MS of the workers: SIGTERMed slow tasks older than this finish, the rest are requeued. */
  shutdownTimeoutMs: number;
  /** RETRY_BASE_DELAY_MS of the workers (the backoff after a lost lease, too). */
  retryBaseDelayMs: number;
  /** max_retry of every submitted task. */
  maxRetry: number;
  /** How long Redis stays down at each restart. */
  redisDownMs: number;
  /** How long a frozen worker stays stopped; 0 means 2 x lease + 1.5 s. */
  freezeMs: number;
  /** The everysec window: acknowledged this long before a Redis crash (ms). */
  windowMs: number;
  /** Longest wait for the queue to drain after the faults. */
  drainTimeoutMs: number;
  seed: number;
  /** The build to run (a copy is taken at start); default <project>/dist. */
  distDir?: string;
  /** Keep the temp dir (logs, AOF) after the run. */
  keepDir: boolean;
  /** Progress lines. */
  log: (line: string) => void;
  /** Aborts the run (Ctrl-C); cleanup still runs. */
  signal?: AbortSignal;
}

export const DEFAULT_OPTIONS: Omit<ChaosOptions, 'seed' | 'log' | 'signal'> = {
  tasks: 10_000,
  kills: 20,
  redisRestarts: 2,
  freezes: 1,
  sigterms: 1,
  workers: 3,
  concurrency: 8,
  fsync: 'everysec',
  rate: 200,
  submitConcurrency: 32,
  leaseMs: 2000,
  slowTaskMs: 600,
  slowFraction: 0.05,
  shutdownTimeoutMs: 300,
  retryBaseDelayMs: 200,
  maxRetry: 10,
  redisDownMs: 1000,
  freezeMs: 0,
  windowMs: 1000,
  drainTimeoutMs: 120_000,
  keepDir: false,
};

export function resolveOptions(partial: Partial<ChaosOptions>): ChaosOptions {
  const o: ChaosOptions = {
    ...DEFAULT_OPTIONS,
    seed: Math.floor(Math.random() * 2 ** 31),
    log: () => undefined,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  };
  const problems: string[] = [];
  const int = (name: keyof ChaosOptions, min: number, max: number) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer in ${min}..${max} (got ${String(v)})`);
  };
  int('tasks', 1, 1_000_000);
  int('kills', 0, 1000);
  int('redisRestarts', 0, 100);
  int('freezes', 0, 100);
  int('sigterms', 0, 100);
  int('workers', 1, 32);
  int('concurrency', 1, 1024);
  int('submitConcurrency', 1, 1024);
  int('leaseMs', 1000, 600_000);
  int('slowTaskMs', 0, 600_000);
  int('shutdownTimeoutMs', 0, 600_000);
  int('retryBaseDelayMs', 1, 600_000);
  int('maxRetry', 0, 25);
  int('redisDownMs', 0, 600_000);
  int('freezeMs', 0, 600_000);
  int('windowMs', 0, 600_000);
  int('drainTimeoutMs', 1000, 3_600_000);
  int('seed', 0, 2 ** 31);
  if (!(o.rate > 0 && o.rate <= 100_000)) problems.push(`rate must be in (0, 100000] (got ${o.rate})`);
  if (!(o.slowFraction >= 0 && o.slowFraction <= 1)) problems.push(`slowFraction must be in 0..1 (got ${o.slowFraction})`);
  if (o.fsync !== 'everysec' && o.fsync !== 'always') problems.push(`fsync must be everysec or always (got ${String(o.fsync)})`);
  if (problems.length > 0) throw new Error(`bad chaos options:\n  - ${problems.join('\n  - ')}`);
  if (o.freezeMs === 0) o.freezeMs = 2 * o.leaseMs + 1500;
  return o;
}
