import { TaskPriority } from './task-options';
import { TaskStatus } from './task.model';

/**
 * The registry of queue names (a set, outside every queue's hash tag): a process adds a queue the first
 * time it enqueues into it, in a command of its own, and workers serving every queue read it.
 */
export function queueRegistryKey(prefix: string): string {
  return `${prefix}:queues`;
}

/**
 * The channel of the registry: a process that adds a queue to the registry for the first time publishes
 * its name there, so workers serving every queue join it at once instead of at their next read.
 */
export function queueRegistryChannel(prefix: string): string {
  return `${prefix}:queues:added`;
}

/** Prefix of the rate limiter's keys (RATE_LIMIT_PER_MIN): per client, with a TTL of the window. */
export function rateLimitKeyPrefix(prefix: string): string {
  return `${prefix}:ratelimit:`;
}

/**
 * Keys of the live worker processes (GET /workers): an index zset (score = when an entry expires) and
 * one hash per process with a TTL. They are the processes' keys, not a queue's: their own hash tag,
 * `{_workers}`, which no queue name can be (a queue name starts with a letter or digit).
 */
export class WorkerKeys {
  readonly index: string;

  constructor(readonly prefix: string) {
    this.index = `${prefix}:{_workers}`;
  }

  /** Prefix of the process hashes (workers.lua derives them from it). */
  get processPrefix(): string {
    return `${this.index}:`;
  }

  process(id: string): string {
    return `${this.processPrefix}${id}`;
  }
}

/**
 * The only place that builds Redis key names.
 *
 * Every key of a queue starts with `<QUEUE_PREFIX>:{<queue>}:`. The braces are a Redis Cluster hash
 * tag, so all keys of one queue live in one slot and every multi-key Lua script is legal on Cluster.
 * Scripts that touch per-task or per-type keys receive `base` and derive those names with the same
 * rules (see lua/lib/common.lua, and the copies at the top of lua/enqueue.lua for its plain-task
 * paths); this file and those must agree.
 */
export class QueueKeys {
  /** Prefix shared by every key of this queue, ending in ':'. */
  readonly base: string;
  /**
   * Ready and waiting task ids of the normal priority level; score = time the task may run (ms). Due ids
   * have score <= now. The other levels are `queue:high` and `queue:low` (queueFor).
   */
  readonly queue: string;
  /** Running task ids; score = lease deadline (ms). */
  readonly active: string;
  /**
   * Legacy: finished task ids by finish time, which drove retention before s:completed / s:failed took
   * the finish time as their score. Nothing writes it now; recover.lua moves what a process of an older
   * version still writes there into the status indexes and it disappears (README "Finished tasks' entries",
   * docs/architecture.md "Redis data model").
   */
  readonly legacyDone: string;
  /** Wake-up marker that idle workers block on (BZPOPMIN). */
  readonly marker: string;
  /** Pub/sub channel carrying ids of running tasks that were deleted. */
  readonly cancelChannel: string;
  /**
   * Pub/sub channel carrying every state change of a task as `id|event|attempt` (published by the
   * scripts, lua/lib/common.lua publish_event); API processes fan it out to waiting requests.
   */
  readonly eventsChannel: string;
  /** Present while the queue is paused: fetch leases nothing from it (POST /queues/{name}/pause). */
  readonly paused: string;

  constructor(
    readonly prefix: string,
    readonly queueName = 'default',
  ) {
    this.base = `${prefix}:{${queueName}}:`;
    this.queue = `${this.base}queue`;
    this.active = `${this.base}active`;
    this.legacyDone = `${this.base}done`;
    this.marker = `${this.base}marker`;
    this.cancelChannel = `${this.base}cancel`;
    this.eventsChannel = `${this.base}events`;
    this.paused = `${this.base}paused`;
  }

  task(id: string): string {
    return `${this.base}t:${id}`;
  }

  /** The ready/waiting zset of a priority level (lua/lib/task-options.lua level_queue). */
  queueFor(priority: TaskPriority = 'normal'): string {
    return priority === 'normal' ? this.queue : `${this.queue}:${priority}`;
  }

  /** Listing index of the tasks of a non-normal priority level; score = creation time (ms). */
  byPriority(priority: Exclude<TaskPriority, 'normal'>): string {
    return `${this.base}p:${priority}`;
  }

  /** What an idempotency key remembers (`<id>|<request hash>`, with a TTL). */
  idempotency(key: string): string {
    return `${this.base}idem:${key}`;
  }

  /** The task's last attempts (list, oldest first, capped); lua/lib/common.lua history_key. */
  history(id: string): string {
    return `${this.base}t:${id}:h`;
  }

  /** Outcome counters of one minute (hash: completed, failed; with a TTL); lua/lib/common.lua stat_key. */
  stats(minute: number): string {
    return `${this.base}stat:${minute}`;
  }

  /**
   * Listing index of one status; score = creation time (ms) for pending, finish time (ms) for completed
   * and failed, which also drives retention. Processing has none (lua/lib/common.lua index_add): its
   * tasks are listed from `active` and counted by it (countedBy). `s:pending` holds only the pending
   * tasks whose queue score is not their creation time (delayed, retrying, sent back); the others are
   * listed from their queue zset (lua/lib/common.lua PENDING_INDEX).
   */
  byStatus(status: TaskStatus): string {
    return `${this.base}s:${status}`;
  }

  /**
   * The zset whose size is the number of tasks of a status: its listing index; `active` for processing;
   * for pending the normal level's queue zset, which stands for every level's (queue-overview.lua adds
   * them up): s:pending holds only the pending tasks not queued at their creation time
   * (lua/lib/common.lua PENDING_INDEX).
   */
  countedBy(status: TaskStatus): string {
    if (status === 'pending') return this.queue;
    return status === 'processing' ? this.active : this.byStatus(status);
  }

  /**
   * Legacy: the listing index of the tasks of one status and type (score = creation time, ms), which no
   * version writes now (lua/lib/common.lua index_add). Tasks stored by an older version may still be in
   * `st:pending:<type>` (they leave it at fetch or delete), `st:completed:<type>` or `st:failed:<type>`
   * (they leave it with their task).
   */
  byStatusAndType(status: TaskStatus, type: string): string {
    return `${this.base}st:${status}:${type}`;
  }

  /** Pattern matching every key of this queue (for tests and maintenance tools, never the hot path). */
  get pattern(): string {
    return `${this.base}*`;
  }
}

/**
 * Key names of the periodic schedules (lua/lib/schedule.lua must agree). All of them share one hash tag,
 * `{_schedules}`, outside every queue's (a queue name never starts with `_`): one Cluster slot for the
 * schedule definitions, apart from the queues their tasks go to.
 */
export class ScheduleKeys {
  /** Prefix shared by every schedule key, ending in ':'. */
  readonly base: string;
  /** Active (not paused) schedule ids; score = next run (ms). */
  readonly due: string;
  /** Every schedule id; score = creation time (ms); drives listing. */
  readonly all: string;

  constructor(readonly prefix: string) {
    this.base = `${prefix}:{_schedules}:`;
    this.due = `${this.base}due`;
    this.all = `${this.base}all`;
  }

  /** The schedule's hash: name, cron, tz, task (template JSON), next_run, last_run, paused, created_at. */
  schedule(id: string): string {
    return `${this.base}sc:${id}`;
  }
}
