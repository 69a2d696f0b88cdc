import { FsyncMode } from './options';

export interface RedisRestartFigure {
  crashAt: number;
  /** From the SIGKILL until the restarted server answered PING. */
  downMs: number;
  /** Tasks in the active zset just before the crash. */
  activeAtCrash: number;
  /** Tasks acknowledged (201) in the window before the crash. */
  ackedInWindow: number;
  /** Of those, lost. */
  lostInWindow: number;
}

export interface RecoveryFigure {
  /** Orphaned tasks tracked (held by the process when it was killed or frozen). */
  orphans: number;
  /** Of them, started again (attempts went up); the times are over these. */
  rerun: number;
  p50Ms?: number;
  maxMs?: number;
  /** Ended in a terminal state without a new attempt (retries spent, or a late write accepted). */
  terminalWithoutRerun: number;
  /** Neither started again nor terminal by the end (counted as lost too, if accepted). */
  stuck: number;
  /** Not completed or failed at the end of the run. */
  unfinished: number;
  /** Orphans the process was running by its log (the rest it held prefetched or while settling). */
  running: number;
  /** Of those, started again and completed or failed by the end. */
  runningRerunAndFinished: number;
  /** The slowest recoveries, for diagnosis. */
  slowest: string[];
}

export interface ChaosFigures {
  fsync: FsyncMode;
  seed: number;
  config: string;
  durationS: number;
  submitS: number;
  drainS: number;
  drained: boolean;

  submitted: number;
  accepted: number;
  notAccepted: number;
  http503: number;
  max503LatencyMs?: number;
  httpConnectionErrors: number;
  httpTimeouts: number;
  httpUnexpected: Record<string, number>;

  completed: number;
  failed: number;
  failedByError: Record<string, number>;
  /** Accepted, but missing or not terminal at the end (before the everysec exemption). */
  lostTotal: number;
  lostMissing: number;
  lostNotTerminal: number;
  /** Lost tasks acknowledged in the window before a Redis crash, under everysec: reported, not counted. */
  lostExemptEverysec: number;
  /** What the exit rule counts. */
  lost: number;
  lostSample: string[];

  ranMoreThanOnce: number;
  /**
   * Why: orphaned by a SIGKILL / a freeze, requeued by a SIGTERM, lease expired during or right
   * after a Redis outage, lease expired with no fault near (e.g. a starved event loop), no trace.
   */
  rerunCauses: { kill: number; freeze: number; sigterm: number; redis: number; leaseExpiredOther: number; unexplained: number };
  /** A few re-run tasks no fault explains, for diagnosis. */
  rerunOther: string[];
  maxAttempts: number;
  inFlightAtKills: number;
  inFlightAtFreezes: number;
  inFlightAtSigterms: number;
  activeAtRedisCrashes: number;
  /** Recoverer log lines "lease expired; ..." (each is a lease that expired and was recovered). */
  leaseRecoveries: number;

  killsDone: number;
  faultsSkipped: number;
  replacementsStarted: number;
  killRecovery: RecoveryFigure;
  freezeRecovery: RecoveryFigure;
  freezes: { inFlight: number; frozenMs: number; lateWritesRejected: number; discarded: number }[];
  sigterms: { inFlight: number; exit: string; durationMs: number; finished: number; requeued: number; leftActive: number }[];
  redisRestarts: RedisRestartFigure[];

  terminalSampled: number;
  terminalLeft: number;
  /** Tasks with more than one accepted terminal write, or one by an attempt that was not the last. */
  doubleTerminalWrites: number;
  /** Under everysec: terminal states or writes inside the window before a Redis crash that were undone (reported, not counted). */
  rollbacksExempt: number;
  wrongResults: number;
  /** GET /tasks/{id} of a sample of accepted tasks, and how many disagreed with Redis. */
  apiChecked: number;
  apiMismatches: number;
  /** Tasks found in Redis that never got a 201 (a 503 or timeout whose command had been applied). */
  unacknowledgedTasks: number;
  workerErrorLines: Record<string, number>;

  checker: { ran: boolean; tasks: number; violations: number; sample: string[]; error?: string };
  gracefulStops: { ok: number; total: number };

  pass: boolean;
  failures: string[];
  dir?: string;
}
