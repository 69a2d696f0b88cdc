import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import {
  checkScriptResult,
  DuplicateTaskIdError,
  QueueErrorCode,
  LeaseLostError,
  QueueUnavailableError,
  TaskNotFoundError,
} from './queue-errors';
import { AttemptRecord, lastAttemptFromHash, parseAttemptEntry, storableWorkerId } from './attempt-history';
import { QueueKeys } from './queue-keys';
import { MAX_BLOCK_MS, RedisConnections } from './redis-connections';
import { toQueueError } from './redis-error-classifier';
import { LIST_FILTER_SCAN_MAX, LIST_PAGE_MAX_BYTES } from './task-limits';
import { decodeTaskOptions, encodeBackoff, TaskPriority } from './task-options';
import {
  LeasedTask,
  ListCursor,
  NewTask,
  parseTaskHash,
  TASK_STATUSES,
  TaskPage,
  TaskRecord,
  TaskStatus,
} from './task.model';

export interface FetchResult {
  tasks: LeasedTask[];
  /** ms until the earliest task still queued may run (0 if due now), by Redis' clock; undefined if none queued. */
  nextRunInMs?: number;
}

export interface Lease {
  id: string;
  token: number;
}

/**
 * A fenced write about one attempt: 'start' records that its handler started; the others end it.
 * `text` is the result for 'complete', the error for 'retry' and 'fail'.
 */
export interface Settlement {
  lease: Lease;
  mode: 'start' | 'complete' | 'retry' | 'fail' | 'requeue';
  text: string;
  /** For 'retry': how long the task waits, counted from the write. */
  delayMs?: number;
  /** For 'start': the worker slot running the attempt (`<host>-<pid>/<slot>`), kept in the task's history. */
  workerId?: string;
  /**
   * For 'retry' and 'fail': the handler ran out of time (history outcome 'timeout'). When unset, the
   * executor's error text (`timeout after N ms`) says so.
   */
  timedOut?: boolean;
}

const TIMEOUT_ERROR = /^timeout after \d+ ms$/;

/** The 6th value of a settle group (settle.lua): the worker id of a start, 'timeout' for a timed-out end. */
function settleDetail(s: Settlement): string {
  if (s.mode === 'start') return storableWorkerId(s.workerId);
  if (s.mode === 'retry' || s.mode === 'fail') return s.timedOut ?? TIMEOUT_ERROR.test(s.text) ? 'timeout' : '';
  return '';
}

export type SettleResult = 'applied' | 'not-found' | 'lease-lost';

/**
 * What the recoverer did with one expired lease: 'retry' / 'failed' for an attempt that started,
 * 'stalled' (back to pending, no retry spent) or 'failed' (too many stalls) for one that never started,
 * 'dropped' for a lease entry without a running task behind it.
 */
export type RecoveryOutcome = { id: string; outcome: 'retry' | 'failed' | 'stalled' | 'dropped'; retries: number };

export interface ListFilter {
  status?: TaskStatus;
  type?: string;
  priority?: TaskPriority;
}

/**
 * What submitting one task came to (see submit): created; the same task as an earlier element of the
 * call (`index`, 0-based: its idempotency key came twice with the same request); a replay of the task an
 * earlier request with the same idempotency key created; or rejected: the key was used with another
 * request ('conflict'), or its task no longer exists ('gone').
 */
export type SubmitOutcome =
  | { kind: 'created' }
  | { kind: 'same-as'; index: number }
  | { kind: 'replayed'; task: TaskRecord }
  | { kind: 'conflict' }
  | { kind: 'gone' };

export interface SubmitResult {
  /** created_at (Redis time, ms) of the tasks created by this call. */
  createdAt: number;
  /** Per task, in order. */
  outcomes: SubmitOutcome[];
  /** Some outcome is a conflict or gone: nothing was stored. */
  rejected: boolean;
}

/** enqueue.lua's first reply value when an idempotency key was rejected; lua/lib/task-options.lua ERR_IDEMPOTENCY. */
const ENQUEUE_IDEMPOTENCY_REJECTED = -4;

const hasOptions = (t: NewTask): boolean =>
  t.delayMs !== undefined ||
  t.runAt !== undefined ||
  (t.priority !== undefined && t.priority !== 'normal') ||
  t.timeoutMs !== undefined ||
  t.backoff !== undefined ||
  t.idempotencyKey !== undefined;

/** enqueue.lua's ARGV after the TTL: the values per task (4, or 11 when any task has options), then the tasks. */
function enqueueArgs(args: (string | number)[], tasks: NewTask[]): void {
  const full = tasks.some(hasOptions);
  args.push(full ? 11 : 4);
  for (const t of tasks) {
    args.push(t.id, t.type, t.payload, t.maxRetry);
    if (!full) continue;
    const priority = t.priority === 'normal' ? '' : (t.priority ?? '');
    args.push(t.delayMs ?? '', t.runAt ?? '', priority, t.timeoutMs ?? '', t.backoff ? encodeBackoff(t.backoff) : '');
    args.push(t.idempotencyKey ?? '', t.idempotencyKey === undefined ? '' : (t.requestHash ?? ''));
  }
}

function submitOutcome(entry: unknown): SubmitOutcome {
  if (entry === 'conflict' || entry === 'gone') return { kind: entry };
  if (Array.isArray(entry)) {
    const [id, pairs] = entry as [string, string[]];
    const task = parseTaskHash(id, pairsToObject(pairs));
    if (task) return { kind: 'replayed', task };
  }
  const earlier = Number(entry);
  return earlier > 0 ? { kind: 'same-as', index: earlier - 1 } : { kind: 'created' };
}

const DOMAIN_ERRORS = [TaskNotFoundError, LeaseLostError, DuplicateTaskIdError];

/**
 * Typed access to the queue in Redis: one method per Lua script plus plain reads. No method takes the
 * time: every script reads Redis' clock (TIME), the one clock of the whole fleet. Every failure of
 * Redis itself surfaces as QueueUnavailableError; script result codes become domain errors in
 * checkScriptResult. No other class issues Redis commands.
 */
@Injectable()
export class QueueRepository {
  readonly keys: QueueKeys;

  private readonly idempotencyTtlMs: number;
  private readonly waitReplicas: number;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.keys = new QueueKeys(config.queue.prefix);
    this.idempotencyTtlMs = config.queue.idempotencyTtlS * 1000;
    this.waitReplicas = config.redis.waitReplicas;
  }

  private get client() {
    return this.redis.commands;
  }

  /**
   * Stores the tasks and makes them ready, all or none; durable in Redis when this resolves. Resolves
   * to their created_at (Redis time, ms), the same for all of them.
   */
  async enqueue(tasks: NewTask[]): Promise<number> {
    const result = await this.submit(tasks);
    if (result.rejected) throw new Error('an idempotency key was rejected; use submit to see which');
    return result.createdAt;
  }

  /**
   * Stores the tasks, all or none, honouring idempotency keys (remembered for IDEMPOTENCY_TTL_S): a task
   * whose key was used before with the same request hash is not created but answered with the task that
   * request created. Nothing is stored when any key conflicts or names a task that is gone (`rejected`).
   */
  async submit(tasks: NewTask[]): Promise<SubmitResult> {
    const args: (string | number)[] = [this.keys.queue, this.keys.marker, this.keys.base, this.idempotencyTtlMs];
    enqueueArgs(args, tasks);
    const reply = (await this.run(() => this.enqueueScript(args))) as number | unknown[];
    const firstId = tasks[0]?.id ?? '';
    if (!Array.isArray(reply)) {
      const createdAt = Number(checkScriptResult(reply, firstId));
      return { createdAt, outcomes: tasks.map(() => ({ kind: 'created' })), rejected: false };
    }
    const code = Number(reply[0]);
    if (code !== ENQUEUE_IDEMPOTENCY_REJECTED) checkScriptResult(code, firstId);
    const outcomes = reply.slice(1).map(submitOutcome);
    return { createdAt: code, outcomes, rejected: code === ENQUEUE_IDEMPOTENCY_REJECTED };
  }

  /** enqueue.lua; with REDIS_WAIT_REPLICAS, followed by WAIT on the same connection (RedisConnections.writeReplicated). */
  private async enqueueScript(args: (string | number)[]): Promise<unknown> {
    if (this.waitReplicas === 0) return this.client.enqueue(...args);
    return (await this.redis.writeReplicated('enqueue', args)).reply;
  }

  /** The task with its attempt history (oldest first), read in one snapshot. */
  async get(id: string): Promise<TaskRecord | undefined> {
    const [pairs, entries] = (await this.run(() => this.client.getTask(this.keys.task(id), this.keys.history(id)))) as [string[], string[]];
    const hash = pairsToObject(pairs);
    const task = parseTaskHash(id, hash);
    if (task) task.history = parseHistory(entries, hash);
    return task;
  }

  /**
   * One page, newest first: at most `limit` tasks, and fewer when the task hashes read reach
   * `maxBytes` (at least one task is always returned); `next` is set whenever the page was cut short.
   */
  async list(filter: ListFilter, limit: number, cursor?: ListCursor, maxBytes = LIST_PAGE_MAX_BYTES): Promise<TaskPage> {
    const { indexes, conditions } = this.listPlan(filter);
    const reply = (await this.run(() =>
      this.client.list(
        indexes.length,
        ...indexes,
        this.keys.base,
        limit,
        cursor ? cursor.score : '',
        cursor?.id ?? '',
        maxBytes,
        LIST_FILTER_SCAN_MAX,
        ...conditions,
      ),
    )) as [number, ...unknown[]];
    const tasks: TaskRecord[] = [];
    let last: ListCursor | undefined;
    for (let i = 1; i < reply.length; i += 3) {
      const id = reply[i] as string;
      last = { id, score: Number(reply[i + 1]) };
      const task = parseTaskHash(id, pairsToObject(reply[i + 2] as string[]));
      // A task removed between the index read and now is skipped; the cursor still moves past it.
      if (task) tasks.push(task);
    }
    return { tasks, next: reply[0] === 1 ? last : undefined };
  }

  /** Removes the task everywhere; a running one is told to stop through the cancel channel. */
  async delete(id: string): Promise<void> {
    const k = this.keys;
    const result = await this.run(() =>
      this.client.delete(k.task(id), k.queue, k.active, k.done, k.base, id, k.cancelChannel),
    );
    checkScriptResult(result as number, id);
  }

  /**
   * Leases up to `max` due tasks for `leaseMs` (from Redis' now): every due high task, then normal,
   * then low, oldest due first within a level; stops early once the
   * payloads leased reach `maxBytes` (the first task always is leased). Leasing is not starting: call
   * settle 'start' when a handler starts, or an expired lease is recovered without spending a retry.
   */
  async fetch(max: number, leaseMs: number, maxBytes = 0): Promise<FetchResult> {
    const k = this.keys;
    const reply = (await this.run(() =>
      this.client.fetch(k.queue, k.active, k.marker, k.base, leaseMs, max, maxBytes),
    )) as (string | number)[];
    const tasks: LeasedTask[] = [];
    const leasedAt = Date.now();
    for (let i = 1; i < reply.length; i += 9) {
      const task: LeasedTask = {
        id: reply[i] as string,
        token: Number(reply[i + 1]),
        type: reply[i + 2] as string,
        payload: reply[i + 3] as string,
        retries: Number(reply[i + 4]),
        maxRetry: Number(reply[i + 5]),
        dueForMs: Number(reply[i + 7]),
        ageMs: Number(reply[i + 8]),
        leasedAt,
      };
      // Set only when the task has its own: most tasks use the worker's defaults.
      if (reply[i + 6] !== '') Object.assign(task, decodeTaskOptions(reply[i + 6] as string));
      tasks.push(task);
    }
    const nextRunInMs = Number(reply[0]);
    return { tasks, nextRunInMs: nextRunInMs >= 0 ? nextRunInMs : undefined };
  }

  /** Extends the leases still held to Redis' now + `leaseMs`; returns the (id, token) pairs it could not extend. */
  async heartbeat(leases: Lease[], leaseMs: number): Promise<Lease[]> {
    if (leases.length === 0) return [];
    const args: (string | number)[] = [this.keys.active, this.keys.base, leaseMs];
    for (const l of leases) args.push(l.id, l.token);
    const reply = (await this.run(() => this.client.heartbeat(...args))) as string[];
    const lost: Lease[] = [];
    for (let i = 0; i < reply.length; i += 2) lost.push({ id: reply[i], token: Number(reply[i + 1]) });
    return lost;
  }

  /** The attempt's handler starts (started_at = Redis' now); until then an expired lease spends no retry. */
  async start(lease: Lease, workerId?: string): Promise<void> {
    await this.settleOne({ lease, mode: 'start', text: '', workerId });
  }

  async complete(lease: Lease, result: string): Promise<void> {
    await this.settleOne({ lease, mode: 'complete', text: result });
  }

  /** Spends a retry: the task waits as pending for `delayMs`, counted from the write. */
  async retry(lease: Lease, error: string, delayMs: number): Promise<void> {
    await this.settleOne({ lease, mode: 'retry', text: error, delayMs });
  }

  /** Terminal failure. */
  async fail(lease: Lease, error: string): Promise<void> {
    await this.settleOne({ lease, mode: 'fail', text: error });
  }

  /** Back to pending at once without spending a retry (the worker is shutting down). */
  async requeue(lease: Lease): Promise<void> {
    await this.settleOne({ lease, mode: 'requeue', text: '' });
  }

  /**
   * Writes many attempts' starts and outcomes in one script call (a worker's batch). Each is fenced by
   * its own token; the result says, per settlement and in order, whether it was applied. A write that
   * was applied by an earlier call whose reply was lost answers 'applied' again, so a retried batch is safe.
   */
  async settle(settlements: Settlement[]): Promise<SettleResult[]> {
    const k = this.keys;
    const args: (string | number)[] = [k.active, k.queue, k.done, k.marker, k.base];
    for (const s of settlements) args.push(s.lease.id, s.lease.token, s.mode, s.text, s.delayMs ?? 0, settleDetail(s));
    const codes = (await this.run(() => this.client.settle(...args))) as number[];
    return codes.map((code) =>
      code === QueueErrorCode.NotFound ? 'not-found' : code === QueueErrorCode.LeaseLost ? 'lease-lost' : 'applied',
    );
  }

  /**
   * Ends up to `limit` attempts whose lease expired by Redis' clock. One whose handler started is a
   * failed attempt (`error`; `delays[n]` is the backoff before retry n+1, from the retry strategy, so
   * recovered tasks back off exactly like failed ones). One that never started goes back to pending
   * without spending a retry ('stalled'), until it has stalled more than `maxStalls` times ('failed').
   */
  async recoverExpired(limit: number, error: string, delays: number[], maxStalls: number): Promise<RecoveryOutcome[]> {
    const k = this.keys;
    const reply = (await this.run(() =>
      this.client.recover(k.active, k.queue, k.done, k.marker, k.base, limit, error, maxStalls, ...delays),
    )) as (string | number)[];
    const outcomes: RecoveryOutcome[] = [];
    for (let i = 0; i < reply.length; i += 3) {
      outcomes.push({
        id: reply[i] as string,
        outcome: reply[i + 1] as RecoveryOutcome['outcome'],
        retries: Number(reply[i + 2]),
      });
    }
    return outcomes;
  }

  /**
   * Removes up to `limit` tasks that finished at least `retentionMs` ago by Redis' clock; returns how
   * many done entries it handled (`limit` means more may be due).
   */
  async purgeExpired(retentionMs: number, limit: number): Promise<number> {
    return (await this.run(() => this.client.purgeExpired(this.keys.done, this.keys.base, retentionMs, limit))) as number;
  }

  /**
   * Blocks until a task may be ready or `timeoutMs` passes, on the wake-up marker that enqueue and
   * retry set. Idle workers thereby cost one command per MAX_BLOCK_MS instead of a polling loop.
   */
  async waitForWork(timeoutMs: number, stop: AbortSignal): Promise<void> {
    if (stop.aborted) return;
    const ms = Math.min(Math.max(Math.ceil(timeoutMs), 1), MAX_BLOCK_MS);
    // Dropping the blocking connection is the only way to end a BZPOPMIN early.
    const interrupt = () => this.redis.closeBlocking();
    stop.addEventListener('abort', interrupt, { once: true });
    try {
      // Interrupted by a stop is not a failure of Redis: nothing to report.
      await this.run(() => this.redis.blocking.bzpopmin(this.keys.marker, (ms / 1000).toFixed(3)), () => stop.aborted);
    } catch (err) {
      if (!stop.aborted) throw err;
    } finally {
      stop.removeEventListener('abort', interrupt);
    }
  }

  /**
   * Calls `listener` with the id of every running task that gets deleted, in any process. Does not
   * wait for the subscription (Redis may be down at boot; ioredis subscribes once it connects and
   * again after every reconnect). A missed message costs only time: the next heartbeat finds the
   * task gone.
   */
  onCancel(listener: (taskId: string) => void): () => void {
    const sub = this.redis.subscriber;
    const channel = this.keys.cancelChannel;
    const handler = (ch: string, message: string) => {
      if (ch === channel) listener(message);
    };
    sub.on('message', handler);
    sub.subscribe(channel).catch(() => undefined);
    // Only the listener is dropped: an UNSUBSCRIBE would wait for Redis, and the connection is
    // disconnected on shutdown anyway.
    return () => {
      sub.off('message', handler);
    };
  }

  /** Resolves when Redis is first connected (or `stop` aborts), so loops do not start with an error. */
  whenConnected(stop: AbortSignal): Promise<void> {
    return this.redis.whenReady(stop);
  }

  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }


  /**
   * The indexes a listing reads and the field conditions list.lua checks per task. High and low tasks
   * have an index of their own, filtered by status and type when those are asked for too; normal tasks
   * have none (they are most tasks), so `priority=normal` reads the status indexes and skips the others.
   */
  private listPlan(filter: ListFilter): { indexes: string[]; conditions: string[] } {
    const { status, type, priority } = filter;
    if (priority === 'high' || priority === 'low') {
      const conditions: string[] = [];
      if (status) conditions.push('status', status);
      if (type) conditions.push('type', type);
      return { indexes: [this.keys.byPriority(priority)], conditions };
    }
    const statuses = status ? [status] : TASK_STATUSES;
    return {
      indexes: statuses.map((s) => (type ? this.keys.byStatusAndType(s, type) : this.keys.byStatus(s))),
      conditions: priority === 'normal' ? ['priority', ''] : [],
    };
  }

  private async settleOne(settlement: Settlement): Promise<void> {
    const [result] = await this.settle([settlement]);
    if (result === 'not-found') throw new TaskNotFoundError(settlement.lease.id);
    if (result === 'lease-lost') throw new LeaseLostError(settlement.lease.id);
  }

  /**
   * Every failure is classified once (toQueueError): QueueUnavailableError (503, and part of the outage
   * report) or QueueServerError (500; its caller logs it with the reply). `expected`: an unavailability
   * for which it returns true is the caller's doing (a stop), not Redis': not reported.
   */
  private async run<T>(command: () => Promise<T>, expected: () => boolean = () => false): Promise<T> {
    try {
      const result = await command();
      this.redis.reportSuccess();
      return result;
    } catch (err) {
      // Already classified: a domain error, or a write too few replicas acknowledged (writeReplicated).
      if (DOMAIN_ERRORS.some((E) => err instanceof E) || err instanceof QueueUnavailableError) throw err;
      const error = toQueueError(err);
      if (error instanceof QueueUnavailableError && !expected()) this.redis.reportFailure(err);
      throw error;
    }
  }
}

/** The archived attempts (list), then the last ended one (task hash). */
function parseHistory(entries: string[], hash: Record<string, string>): AttemptRecord[] {
  const history: AttemptRecord[] = [];
  for (const entry of entries) {
    const record = parseAttemptEntry(entry);
    if (record) history.push(record);
  }
  const last = lastAttemptFromHash(hash);
  if (last) history.push(last);
  return history;
}

function pairsToObject(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
  return out;
}
