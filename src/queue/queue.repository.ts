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
import { EnqueueGroups, SubmitResult } from './enqueue-groups';
import { expandTaskHash } from './compact-task';
import { AttemptRecord, lastAttemptFromHash, parseAttemptEntry, storableWorkerId } from './attempt-history';
import { QueueKeys, queueRegistryChannel, queueRegistryKey } from './queue-keys';
import { MAX_BLOCK_MS, RedisConnections } from './redis-connections';
import { toQueueError } from './redis-error-classifier';
import { LIST_FILTER_SCAN_MAX, LIST_PAGE_MAX_BYTES } from './task-limits';
import { DEFAULT_QUEUE, queueOfTaskId } from './task-id';
import { decodeTaskOptions, encodeBackoff, TASK_PRIORITIES, TaskPriority } from './task-options';
import {
  encodeSchedule,
  isFinishedStatus,
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
  /**
   * The task's payload, when the caller holds it (a LeasedTask does): a completion that packs the task
   * (COMPACT_COMPLETED_TASKS) leaves a payload longer than COMPACT_PAYLOAD_MAX_CHARS where it is
   * instead of copying it through Lua. Without it, the payload is packed whatever its size.
   */
  payload?: string;
}

/**
 * Above this many characters a completing task's payload stays under its own name when the task is
 * packed: copying it through the settle script costs Redis about 100 µs per 64 KiB
 * (bench/script-cost.ts --payload-bytes=65536 --compact), and renaming it saves 6 bytes.
 */
export const COMPACT_PAYLOAD_MAX_CHARS = 512;

/**
 * A fenced write about one attempt: 'start' records that its handler started; the others end it.
 * 'run' is a 'start' and a 'complete' of the same attempt in one write (the worker sends it when both
 * are in one batch: a short handler). `text` is the result for 'complete' and 'run', the error for
 * 'retry' and 'fail'.
 */
export interface Settlement {
  lease: Lease;
  mode: 'start' | 'run' | 'complete' | 'retry' | 'fail' | 'requeue';
  text: string;
  /** For 'retry': how long the task waits, counted from the write. */
  delayMs?: number;
  /** For 'start' and 'run': the worker slot running the attempt (`<host>-<pid>/<slot>`), kept in the task's history. */
  workerId?: string;
  /**
   * For 'retry' and 'fail': the handler ran out of time (history outcome 'timeout'). When unset, the
   * executor's error text (`timeout after N ms`) says so.
   */
  timedOut?: boolean;
}

const TIMEOUT_ERROR = /^timeout after \d+ ms$/;

/** The delay_ms field of settle.lua: a retry's delay; for a completion, '1' when a large payload stays where it is. */
function settleDelay(s: Settlement): string | number {
  if (s.mode === 'complete' || s.mode === 'run') return (s.lease.payload?.length ?? 0) > COMPACT_PAYLOAD_MAX_CHARS ? '1' : 0;
  return s.delayMs ?? 0;
}

/** The 6th value of a settle group (settle.lua): the worker id of a start, 'timeout' for a timed-out end. */
function settleDetail(s: Settlement): string {
  if (s.mode === 'start' || s.mode === 'run') return storableWorkerId(s.workerId);
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

/** One recover call of a queue: what it did, and ms until the queue's next lease expires (undefined: none held). */
export interface Recovery {
  outcomes: RecoveryOutcome[];
  nextDeadlineInMs?: number;
}

export interface ListFilter {
  /** Absent: every registered queue, merged in listing order (one script call per queue). */
  queue?: string;
  status?: TaskStatus;
  type?: string;
  priority?: TaskPriority;
}

export type { SubmitOutcome, SubmitResult } from './enqueue-groups';

const hasOptions = (t: NewTask): boolean =>
  t.delayMs !== undefined ||
  t.runAt !== undefined ||
  (t.priority !== undefined && t.priority !== 'normal') ||
  t.timeoutMs !== undefined ||
  t.backoff !== undefined ||
  t.idempotencyKey !== undefined ||
  t.scheduleId !== undefined;

/**
 * enqueue.lua's ARGV after the TTL: the values per task (4, or 12 when any task has options), whether
 * new tasks store their default fields ('1' or ''), then the tasks of every part in order.
 */
function enqueueArgs(args: (string | number)[], storeDefaults: string, parts: NewTask[][]): void {
  const full = parts.some((tasks) => tasks.some(hasOptions));
  args.push(full ? 12 : 4, storeDefaults);
  for (const tasks of parts) {
    for (const t of tasks) {
      args.push(t.id, t.type, t.payload, t.maxRetry);
      if (!full) continue;
      const priority = t.priority === 'normal' ? '' : (t.priority ?? '');
      args.push(t.delayMs ?? '', t.runAt ?? '', priority, t.timeoutMs ?? '', t.backoff ? encodeBackoff(t.backoff) : '');
      args.push(t.idempotencyKey ?? '', t.idempotencyKey === undefined ? '' : (t.requestHash ?? ''), encodeSchedule(t));
    }
  }
}

const DOMAIN_ERRORS = [TaskNotFoundError, LeaseLostError, DuplicateTaskIdError];

/** One BZPOPMIN of waitForWork on Cluster: `result` resolves to undefined, or to its error; `done` once it has. */
interface MarkerWait {
  done: boolean;
  result: Promise<unknown>;
}

/** How long a process trusts that a queue it enqueued into is in the registry before adding it again. */
const REGISTERED_TTL_MS = 60_000;

/** Items grouped by the queue of a task id, each with its index in the input. */
function byQueue<T>(items: T[], idOf: (item: T) => string): Map<string, { item: T; index: number }[]> {
  const groups = new Map<string, { item: T; index: number }[]>();
  items.forEach((item, index) => {
    const queue = queueOfTaskId(idOf(item));
    let group = groups.get(queue);
    if (!group) groups.set(queue, (group = []));
    group.push({ item, index });
  });
  return groups;
}

/** Whether listing position a comes before b: the open part first, then newest score first, then id descending. */
function listedBefore(a: ListCursor, b: ListCursor): boolean {
  if (Boolean(a.finished) !== Boolean(b.finished)) return !a.finished;
  return a.score !== b.score ? a.score > b.score : a.id > b.id;
}

/** One queue's page, each task with its listing position (for the merge of several queues). */
interface PositionedPage {
  tasks: { task: TaskRecord; at: ListCursor }[];
  next?: ListCursor;
}

/**
 * Typed access to the queue in Redis: one method per Lua script plus plain reads. No method takes the
 * time: every script reads Redis' clock (TIME), the one clock of the whole fleet. Every failure of
 * Redis itself surfaces as QueueUnavailableError; script result codes become domain errors in
 * checkScriptResult. No other class issues Redis commands.
 */
@Injectable()
export class QueueRepository {
  /** The keys of the queue `default`. */
  readonly keys: QueueKeys;

  private readonly idempotencyTtlMs: number;
  /** settle.lua ARGV[4]: '1' stores completed tasks compact (COMPACT_COMPLETED_TASKS). */
  private readonly compactCompleted: string;
  /** enqueue.lua ARGV[4]: '1' stores a new task's default fields (STORE_TASK_DEFAULTS). */
  private readonly storeTaskDefaults: string;
  private readonly waitReplicas: number;
  private readonly keysByQueue = new Map<string, QueueKeys>();
  private readonly registryKey: string;
  private readonly registryChannel: string;
  /** Queue -> when this process last added it to the registry (process clock, ms). */
  private readonly registered = new Map<string, number>();
  /** On Cluster, the BZPOPMIN of each marker still blocked (waitForWork); a later wait joins it. */
  private readonly markerWaits = new Map<string, MarkerWait>();
  /** Group commit of submits: those of one queue in one tick share an enqueue.lua call. */
  private readonly enqueues = new EnqueueGroups((queue, ttlMs, parts) => {
    const k = this.keysOf(queue);
    const args: (string | number)[] = [k.queue, k.marker, k.base, ttlMs];
    enqueueArgs(args, this.storeTaskDefaults, parts);
    return this.run(() => this.enqueueScript(args));
  });

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.keys = new QueueKeys(config.queue.prefix);
    this.keysByQueue.set(DEFAULT_QUEUE, this.keys);
    this.registryKey = queueRegistryKey(config.queue.prefix);
    this.registryChannel = queueRegistryChannel(config.queue.prefix);
    this.idempotencyTtlMs = config.queue.idempotencyTtlS * 1000;
    this.compactCompleted = config.queue.compactCompleted ? '1' : '';
    this.storeTaskDefaults = config.queue.storeTaskDefaults ? '1' : '';
    this.waitReplicas = config.redis.waitReplicas;
  }

  private get client() {
    return this.redis.commands;
  }

  /** The keys of a queue (built once per queue name). */
  keysOf(queue: string): QueueKeys {
    let keys = this.keysByQueue.get(queue);
    if (!keys) {
      keys = new QueueKeys(this.keys.prefix, queue);
      this.keysByQueue.set(queue, keys);
    }
    return keys;
  }

  /**
   * Every queue name known: `default` and the registry (queues something was ever enqueued into,
   * or that were paused), sorted. One SMEMBERS.
   */
  async queueNames(): Promise<string[]> {
    const names = (await this.run(() => this.client.smembers(this.registryKey))) as string[];
    if (!names.includes(DEFAULT_QUEUE)) names.push(DEFAULT_QUEUE);
    return names.sort();
  }

  /**
   * Adds the queue to the registry (a command of its own: the registry is in no queue's slot). Once per
   * process and REGISTERED_TTL_MS, so enqueueing costs nothing more, and a registry lost meanwhile heals.
   * `default` is always known and never added. A queue new to the registry is also published on its
   * channel (onQueueAdded), one more command only then.
   */
  private async register(queue: string): Promise<void> {
    if (queue === DEFAULT_QUEUE) return;
    const at = this.registered.get(queue);
    const now = Date.now();
    if (at !== undefined && now - at < REGISTERED_TTL_MS) return;
    const added = await this.run(() => this.client.sadd(this.registryKey, queue));
    if (added === 1) await this.run(() => this.client.publish(this.registryChannel, queue));
    this.registered.set(queue, now);
  }

  /**
   * Calls `listener` with the name of every queue added to the registry from now on, by any process.
   * Like onCancel it does not wait for the subscription, and a missed message costs only time (workers
   * also read the registry every DISCOVER_EVERY_MS). Returns a function dropping the listener.
   */
  onQueueAdded(listener: (queue: string) => void): () => void {
    return this.listen(this.registryChannel, listener);
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
   * Stores the tasks, all or none, honouring idempotency keys (remembered for IDEMPOTENCY_TTL_S, or
   * `idempotencyTtlMs`): a task whose key was used before with the same request hash is not created but
   * answered with the task that request created. Nothing is stored when any key conflicts or names a task
   * that is gone (`rejected`).
   */
  async submit(tasks: NewTask[], idempotencyTtlMs = this.idempotencyTtlMs): Promise<SubmitResult> {
    const queue = tasks[0]?.queue ?? DEFAULT_QUEUE;
    for (const t of tasks) {
      if ((t.queue ?? DEFAULT_QUEUE) !== queue || queueOfTaskId(t.id) !== queue) {
        throw new Error(`submit takes the tasks of one queue, each with an id of that queue (newTaskId); got ${t.id} for ${t.queue ?? DEFAULT_QUEUE}`);
      }
    }
    await this.register(queue);
    return this.enqueues.submit(queue, idempotencyTtlMs, tasks);
  }

  /** enqueue.lua; with REDIS_WAIT_REPLICAS, followed by WAIT on the same connection (RedisConnections.writeReplicated). */
  private async enqueueScript(args: (string | number)[]): Promise<unknown> {
    if (this.waitReplicas === 0) return this.client.enqueue(...args);
    return (await this.redis.writeReplicated('enqueue', args)).reply;
  }

  /** The task with its attempt history (oldest first), read in one snapshot. */
  async get(id: string): Promise<TaskRecord | undefined> {
    const k = this.keysOf(queueOfTaskId(id));
    const [pairs, entries] = (await this.run(() => this.client.getTask(k.task(id), k.history(id)))) as [string[], string[]];
    const hash = expandTaskHash(pairsToObject(pairs));
    const task = parseTaskHash(id, hash);
    if (task) task.history = parseHistory(entries, hash);
    return task;
  }

  /**
   * One page: at most `limit` tasks, and fewer when the task hashes read reach `maxBytes` (at least one
   * task is always returned); `next` is set whenever the page was cut short. Order: open tasks (pending,
   * processing) newest created first, then finished ones (completed, failed) latest finished first
   * (ListCursor); a listing of high or low priority goes by creation time only (one index, its part
   * the open one).
   */
  async list(filter: ListFilter, limit: number, cursor?: ListCursor, maxBytes = LIST_PAGE_MAX_BYTES): Promise<TaskPage> {
    const queues = filter.queue !== undefined ? [filter.queue] : await this.queueNames();
    const pages = await Promise.all(queues.map((q) => this.listQueue(q, filter, limit, cursor, maxBytes)));
    const page = pages.length === 1 ? pages[0] : mergePages(pages, limit, maxBytes);
    return { tasks: page.tasks.map((t) => t.task), next: page.next };
  }

  /** One page of one queue (list.lua). */
  private async listQueue(queue: string, filter: ListFilter, limit: number, cursor: ListCursor | undefined, maxBytes: number): Promise<PositionedPage> {
    const k = this.keysOf(queue);
    const { indexes, openCount, indexType, conditions } = this.listPlan(k, filter);
    const reply = (await this.run(() =>
      this.client.list(
        indexes.length,
        ...indexes,
        k.base,
        limit,
        cursor ? cursor.score : '',
        cursor?.id ?? '',
        maxBytes,
        LIST_FILTER_SCAN_MAX,
        indexType,
        openCount,
        cursor?.finished ? 1 : 0,
        ...conditions,
      ),
    )) as [number, ...unknown[]];
    const tasks: PositionedPage['tasks'] = [];
    let last: ListCursor | undefined;
    for (let i = 1; i < reply.length; i += 4) {
      const id = reply[i] as string;
      last = Number(reply[i + 2]) === 1 ? { id, score: Number(reply[i + 1]), finished: true } : { id, score: Number(reply[i + 1]) };
      const task = parseTaskHash(id, pairsToObject(reply[i + 3] as string[]));
      // A task removed between the index read and now is skipped; the cursor still moves past it.
      if (task) tasks.push({ task, at: last });
    }
    return { tasks, next: reply[0] === 1 ? last : undefined };
  }

  /** Removes the task everywhere; a running one is told to stop through the cancel channel. */
  async delete(id: string): Promise<void> {
    const k = this.keysOf(queueOfTaskId(id));
    const result = await this.run(() =>
      this.client.delete(k.task(id), k.queue, k.active, k.base, id, k.cancelChannel),
    );
    checkScriptResult(result as number, id);
  }

  /**
   * Leases up to `max` due tasks for `leaseMs` (from Redis' now): every due high task, then normal,
   * then low, oldest due first within a level; stops early once the
   * payloads leased reach `maxBytes` (the first task always is leased). Leasing is not starting: call
   * settle 'start' when a handler starts, or an expired lease is recovered without spending a retry.
   */
  async fetch(max: number, leaseMs: number, maxBytes = 0, queue = DEFAULT_QUEUE): Promise<FetchResult> {
    const k = this.keysOf(queue);
    const reply = (await this.run(() =>
      this.client.fetch(k.queue, k.active, k.marker, k.paused, k.base, leaseMs, max, maxBytes),
    )) as (string | number)[];
    // { next, now, k, fields, k types, payloads, ids holding a tab }: 8 tab-ended fields per task in one string (fetch.lua).
    const now = Number(reply[1]);
    const typesAt = 3;
    const fields = (reply[3] as string).split('\t');
    const n = (fields.length - 1) / 8;
    const payloadsAt = 4 + Number(reply[2]);
    let oddIdAt = payloadsAt + n;
    const tasks: LeasedTask[] = new Array<LeasedTask>(n);
    const leasedAt = Date.now();
    for (let t = 0, f = 0; t < n; t += 1, f += 8) {
      let typeNumber = Number(fields[f + 2]);
      let id = fields[f];
      if (typeNumber < 0) {
        typeNumber = -typeNumber;
        id = reply[oddIdAt++] as string;
      }
      const task: LeasedTask = {
        id,
        token: Number(fields[f + 1]),
        type: reply[typesAt + typeNumber] as string,
        payload: reply[payloadsAt + t] as string,
        retries: Number(fields[f + 3]),
        maxRetry: Number(fields[f + 4]),
        // For the metrics, by Redis' clock: how long it was due, how old it is (0 without a creation time).
        dueForMs: now - Number(fields[f + 6]),
        ageMs: now - (Number(fields[f + 7]) || now),
        leasedAt,
      };
      // Set only when the task has its own: most tasks use the worker's defaults.
      if (fields[f + 5] !== '') Object.assign(task, decodeTaskOptions(fields[f + 5]));
      tasks[t] = task;
    }
    const nextRunInMs = Number(reply[0]);
    return { tasks, nextRunInMs: nextRunInMs >= 0 ? nextRunInMs : undefined };
  }

  /** Extends the leases still held to Redis' now + `leaseMs`; returns the (id, token) pairs it could not extend. */
  async heartbeat(leases: Lease[], leaseMs: number): Promise<Lease[]> {
    if (leases.length === 0) return [];
    // One script call per queue (a script touches one queue's slot).
    const calls = [...byQueue(leases, (l) => l.id)].map(async ([queue, group]) => {
      const k = this.keysOf(queue);
      const args: (string | number)[] = [k.active, k.base, leaseMs];
      for (const { item } of group) args.push(item.id, item.token);
      return (await this.run(() => this.client.heartbeat(...args))) as string[];
    });
    const lost: Lease[] = [];
    for (const reply of await Promise.all(calls)) {
      for (let i = 0; i < reply.length; i += 2) lost.push({ id: reply[i], token: Number(reply[i + 1]) });
    }
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
    if (settlements.length === 0) return [];
    // A worker's batch is almost always of one queue: then no grouping, no per-settlement objects.
    const first = queueOfTaskId(settlements[0].lease.id);
    if (settlements.every((s) => queueOfTaskId(s.lease.id) === first)) return this.settleQueue(first, settlements);
    const results: SettleResult[] = new Array<SettleResult>(settlements.length);
    // One script call per queue (a script touches one queue's slot); results go back in input order.
    const calls = [...byQueue(settlements, (s) => s.lease.id)].map(async ([queue, group]) => {
      const answers = await this.settleQueue(queue, group.map(({ item }) => item));
      group.forEach(({ index }, i) => {
        results[index] = answers[i];
      });
    });
    await Promise.all(calls);
    return results;
  }

  /** One settle call for settlements of one queue. */
  private async settleQueue(queue: string, settlements: Settlement[]): Promise<SettleResult[]> {
    const k = this.keysOf(queue);
    // Two arguments for the whole batch (settle.lua): the fixed fields, tab-ended, and every id and
    // text one after the other, measured in bytes by the fields.
    let fields = '';
    let blob = '';
    for (const s of settlements) {
      fields += `${Buffer.byteLength(s.lease.id)}\t${s.lease.token}\t${s.mode}\t${settleDelay(s)}\t${settleDetail(s)}\t${Buffer.byteLength(s.text)}\t`;
      blob += s.lease.id + s.text;
    }
    const codes = (await this.run(() => this.client.settle(k.active, k.queue, k.marker, k.base, fields, blob, this.compactCompleted))) as number[];
    const results = new Array<SettleResult>(settlements.length);
    for (let i = 0; i < settlements.length; i += 1) {
      const code = codes[i];
      results[i] = code === QueueErrorCode.NotFound ? 'not-found' : code === QueueErrorCode.LeaseLost ? 'lease-lost' : 'applied';
    }
    return results;
  }

  /**
   * Ends up to `limit` attempts whose lease expired by Redis' clock. One whose handler started is a
   * failed attempt (`error`; `delays[n]` is the backoff before retry n+1, from the retry strategy, so
   * recovered tasks back off exactly like failed ones). One that never started goes back to pending
   * without spending a retry ('stalled'), until it has stalled more than `maxStalls` times ('failed').
   */
  async recoverExpired(limit: number, error: string, delays: number[], maxStalls: number, queue = DEFAULT_QUEUE): Promise<RecoveryOutcome[]> {
    return (await this.recoverDue(limit, error, delays, maxStalls, queue)).outcomes;
  }

  /**
   * recoverExpired, plus when the queue's next lease expires (ms from now by Redis' clock, <= 0 when
   * more are due already; undefined when no lease is held), so the recoverer can sleep until then.
   */
  async recoverDue(limit: number, error: string, delays: number[], maxStalls: number, queue = DEFAULT_QUEUE): Promise<Recovery> {
    const k = this.keysOf(queue);
    const reply = (await this.run(() =>
      this.client.recover(k.active, k.queue, k.marker, k.base, limit, error, maxStalls, ...delays),
    )) as (string | number)[];
    const outcomes: RecoveryOutcome[] = [];
    for (let i = 1; i < reply.length; i += 3) {
      outcomes.push({
        id: reply[i] as string,
        outcome: reply[i + 1] as RecoveryOutcome['outcome'],
        retries: Number(reply[i + 2]),
      });
    }
    return { outcomes, nextDeadlineInMs: reply[0] === 'none' ? undefined : Number(reply[0]) };
  }

  /**
   * Removes up to `limit` tasks that finished at least `retentionMs` ago by Redis' clock; returns how
   * many entries of s:completed / s:failed it handled (`limit` means more may be due).
   */
  async purgeExpired(retentionMs: number, limit: number, queue = DEFAULT_QUEUE): Promise<number> {
    const k = this.keysOf(queue);
    return (await this.run(() => this.client.purgeExpired(k.byStatus('completed'), k.byStatus('failed'), k.base, retentionMs, limit))) as number;
  }

  /**
   * Blocks until a task of one of `queues` may be ready or `timeoutMs` passes, on the wake-up markers
   * that enqueue, retry and resume set. Idle workers thereby cost one command per MAX_BLOCK_MS instead
   * of a polling loop. One BZPOPMIN over every queue's marker; on Redis Cluster, where the keys of one
   * command must share a slot (and each queue is its own slot), one BZPOPMIN per marker, all at once,
   * each on its own connection (waitOnEach; README "Named queues"). `wake` ends the wait early like
   * `stop` (the served queues changed: wait on the new set), without ending the blocked BZPOPMINs kept
   * on Cluster.
   */
  async waitForWork(timeoutMs: number, stop: AbortSignal, queues: readonly string[] = [DEFAULT_QUEUE], wake?: AbortSignal): Promise<void> {
    const interrupted = () => stop.aborted || wake?.aborted === true;
    if (interrupted()) return;
    const ms = Math.min(Math.max(Math.ceil(timeoutMs), 1), MAX_BLOCK_MS);
    const markers = queues.map((q) => this.keysOf(q).marker);
    const single = markers.length <= 1 || !this.redis.isCluster;
    // Dropping the blocking connection is the only way to end a BZPOPMIN early.
    const interrupt = () => this.redis.closeBlocking();
    stop.addEventListener('abort', interrupt, { once: true });
    if (single) wake?.addEventListener('abort', interrupt, { once: true });
    try {
      if (single) {
        // Interrupted by a stop is not a failure of Redis: nothing to report.
        await this.run(() => this.redis.blocking.bzpopmin(...markers, (ms / 1000).toFixed(3)), interrupted);
        return;
      }
      await this.waitOnEach(markers, ms, stop, wake);
    } catch (err) {
      if (!interrupted()) throw err;
    } finally {
      stop.removeEventListener('abort', interrupt);
      wake?.removeEventListener('abort', interrupt);
    }
  }

  /**
   * Cluster: one BZPOPMIN per marker, each on its own connection, all blocking at once; the first to
   * answer (or fail), or `ms`, ends the wait. A BZPOPMIN still blocked then is kept, and one that
   * answers later is kept too until a wait sees it, so no wake-up is lost; an idle process sends one
   * command per marker and MAX_BLOCK_MS. `wake` ends the wait at once and keeps every BZPOPMIN.
   */
  private async waitOnEach(markers: string[], ms: number, stop: AbortSignal, wake?: AbortSignal): Promise<void> {
    const waits = markers.map((marker) => {
      const kept = this.markerWaits.get(marker);
      if (kept) return kept.result;
      const wait: MarkerWait = { done: false, result: Promise.resolve() };
      wait.result = this.run(
        () => this.redis.blockingFor(marker).bzpopmin(marker, (MAX_BLOCK_MS / 1000).toFixed(3)),
        () => stop.aborted,
      ).then(
        () => {
          wait.done = true;
          return undefined;
        },
        (err: unknown) => {
          wait.done = true;
          return err ?? new Error('BZPOPMIN failed');
        },
      );
      this.markerWaits.set(marker, wait);
      return wait.result;
    });
    let timer: NodeJS.Timeout | undefined;
    let woken: (() => void) | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
      woken = () => resolve(undefined);
      wake?.addEventListener('abort', woken, { once: true });
    });
    try {
      const failure = await Promise.race([...waits, timeout]);
      if (failure) throw failure;
    } finally {
      clearTimeout(timer);
      if (woken) wake?.removeEventListener('abort', woken);
      for (const [marker, wait] of this.markerWaits) if (wait.done) this.markerWaits.delete(marker);
    }
  }

  /**
   * Calls `listener` with the id of every running task of `queue` that gets deleted, in any process. Does not
   * wait for the subscription (Redis may be down at boot; ioredis subscribes once it connects and
   * again after every reconnect). A missed message costs only time: the next heartbeat finds the
   * task gone.
   */
  onCancel(listener: (taskId: string) => void, queue = DEFAULT_QUEUE): () => void {
    return this.listen(this.keysOf(queue).cancelChannel, listener);
  }

  /** Subscribes the subscriber connection to `channel` (without waiting) and calls `listener` with each message. */
  private listen(channel: string, listener: (message: string) => void): () => void {
    const sub = this.redis.subscriber;
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

  /**
   * Pauses a queue: workers lease nothing more from it until resume; attempts already leased run on.
   * Stored in Redis (survives restarts); the queue is added to the registry, so a queue may be paused
   * before anything was enqueued into it.
   */
  async pause(queue: string): Promise<void> {
    await this.run(() => this.client.set(this.keysOf(queue).paused, '1'));
    this.registered.delete(queue);
    await this.register(queue);
  }

  /** Resumes a paused queue (a no-op for one that is not) and wakes idle workers. */
  async resume(queue: string): Promise<void> {
    const k = this.keysOf(queue);
    // One slot: a transaction is legal on Cluster too.
    await this.run(() => this.client.multi().del(k.paused).zadd(k.marker, 0, '0').exec());
  }

  /** queue-overview.lua of one queue: paused (0|1), scheduled, oldest due age (ms), then the count of each status. */
  async overview(queue: string, statuses: readonly TaskStatus[]): Promise<number[]> {
    const k = this.keysOf(queue);
    const reply = await this.run(() => this.client.queueOverview(2 + statuses.length, k.queue, k.paused, ...statuses.map((s) => k.countedBy(s))));
    return (reply as (string | number)[]).map(Number);
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
   * Processing tasks have no index: list.lua reads them from `active` (of type `indexType`, '' = any).
   * Pending tasks are read from the queue zsets and s:pending (list.lua keeps each task once).
   * No status has an index per type: with a type, list.lua reads the status indexes and skips the tasks
   * of other types (`indexType` again). The first `openCount` indexes are the open part of
   * the listing (by creation time), the others the finished part (by finish time).
   */
  private listPlan(keys: QueueKeys, filter: ListFilter): { indexes: string[]; openCount: number; indexType: string; conditions: string[] } {
    const { status, type, priority } = filter;
    if (priority === 'high' || priority === 'low') {
      const conditions: string[] = [];
      if (status) conditions.push('status', status);
      if (type) conditions.push('type', type);
      return { indexes: [keys.byPriority(priority)], openCount: 1, indexType: '', conditions };
    }
    const statuses = status ? [status] : TASK_STATUSES;
    const open = statuses.filter((s) => !isFinishedStatus(s));
    const ordered = [...open, ...statuses.filter(isFinishedStatus)];
    // Pending tasks: the queue zsets list those queued at their creation time, s:pending the others
    // (lua/lib/common.lua PENDING_INDEX); normal tasks are all in `queue`.
    const pending = priority === 'normal' ? [keys.queue] : TASK_PRIORITIES.map((p) => keys.queueFor(p));
    const indexes = ordered.flatMap((s) => (s === 'processing' ? [keys.active] : s === 'pending' ? [...pending, keys.byStatus(s)] : [keys.byStatus(s)]));
    return {
      indexes,
      openCount: indexes.length - ordered.filter(isFinishedStatus).length,
      indexType: type ?? '',
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
      // NOSCRIPT: nothing ran, so once more is safe; ioredis sends EVAL this time (see RedisConnections.preloadScripts).
      const result = await command().catch((err: unknown) => (isNoScript(err) ? command() : Promise.reject(err)));
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

/**
 * One page over several queues from one page of each (all read after the same cursor): the tasks in
 * listing order, up to `limit` and the byte budget, but none past the first place where a queue's own
 * page stopped short (what that queue holds beyond it is unread). `next` is set whenever more may follow.
 */
function mergePages(pages: PositionedPage[], limit: number, maxBytes: number): PositionedPage {
  const all = pages.flatMap((p) => p.tasks).sort((a, b) => (listedBefore(a.at, b.at) ? -1 : 1));
  let frontier: ListCursor | undefined;
  for (const p of pages) if (p.next && (!frontier || listedBefore(p.next, frontier))) frontier = p.next;
  const tasks: PositionedPage['tasks'] = [];
  let bytes = 0;
  for (const t of all) {
    if (frontier && listedBefore(frontier, t.at)) break;
    if (tasks.length >= limit || (maxBytes > 0 && tasks.length > 0 && bytes >= maxBytes)) {
      return { tasks, next: tasks[tasks.length - 1].at };
    }
    tasks.push(t);
    bytes += t.task.payload.length + (t.task.result?.length ?? 0) + (t.task.error?.length ?? 0);
  }
  return { tasks, next: frontier };
}

/** Redis did not know the script's SHA (a node restarted, flushed, or reached by a redirect inside a pipeline). */
function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
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
