import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { QueueRepository } from './queue.repository';
import { RedisClient, RedisConnections } from './redis-connections';
import { queueOfTaskId } from './task-id';

/** State changes the scripts publish (lua/lib/common.lua publish_event). */
export const TASK_EVENT_NAMES = ['pending', 'processing', 'retrying', 'completed', 'failed', 'deleted'] as const;
export type TaskEventName = (typeof TASK_EVENT_NAMES)[number];
/** After these nothing more happens to the task. */
export const FINAL_EVENTS: ReadonlySet<TaskEventName> = new Set(['completed', 'failed', 'deleted']);

/**
 * A state change of one task, in the order Redis made them (`attempt`: the task's attempt number when
 * it happened), or 'resync': the subscription was re-established after a broken connection, events
 * may have been missed, and the listener should read the task again.
 */
export type TaskEvent = { id: string; name: TaskEventName; attempt: number } | { id: string; name: 'resync' };
export type TaskEventListener = (event: TaskEvent) => void;

export interface TaskWatch {
  /**
   * Resolves once the events channel is subscribed, so every later change of the task reaches the
   * listener: read the task after this to close the race with a change made before it. Never rejects;
   * stays pending while Redis is away.
   */
  readonly ready: Promise<void>;
  /** Ends the watch (idempotent). */
  stop(): void;
}

/**
 * How long the subscription outlives the last watch: a steady trickle of waiting requests then costs
 * no SUBSCRIBE/UNSUBSCRIBE pair each, and an API process nobody waits on stops receiving the queue's
 * events (every transition of every task) soon after.
 */
export const UNSUBSCRIBE_AFTER_MS = 30_000;

const noop = () => undefined;
const isEventName = (s: string): s is TaskEventName => (TASK_EVENT_NAMES as readonly string[]).includes(s);

/**
 * One subscription per process to the events channel of each queue whose tasks are waited for,
 * fanned out in memory to the requests waiting for a task (GET /tasks/{id}?wait, /events): a map from
 * task id to its listeners, so a thousand waiting requests cost one subscription, and a message
 * about a task nobody waits for costs one map lookup. Subscribed on the first watch, unsubscribed UNSUBSCRIBE_AFTER_MS after the last.
 */
@Injectable()
export class TaskEventBus implements OnApplicationShutdown {
  private readonly listeners = new Map<string, Set<TaskEventListener>>();
  private connection?: RedisClient;
  /** Events channel of a queue -> settles once subscribed; a channel is absent while not subscribed (nor subscribing). */
  private readonly subscriptions = new Map<string, Promise<void>>();
  private idleTimer?: NodeJS.Timeout;
  /** A subscription was confirmed on the current connection: a later `ready` is a reconnect. */
  private confirmed = false;
  /** UNSUBSCRIBE_AFTER_MS; specs shorten it. */
  unsubscribeAfterMs = UNSUBSCRIBE_AFTER_MS;

  constructor(
    private readonly redis: RedisConnections,
    private readonly queue: QueueRepository,
  ) {}

  /** Calls `listener` with every later event of the task until the watch is stopped. */
  watch(id: string, listener: TaskEventListener): TaskWatch {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    this.cancelIdle();
    const ready = this.subscribe(this.queue.keysOf(queueOfTaskId(id)).eventsChannel);
    let stopped = false;
    return {
      ready,
      stop: () => {
        if (stopped) return;
        stopped = true;
        const current = this.listeners.get(id);
        if (!current) return;
        current.delete(listener);
        if (current.size === 0) this.listeners.delete(id);
        if (this.listeners.size === 0) this.scheduleIdle();
      },
    };
  }

  /** Tasks with at least one listener (one map entry each). */
  get watchedTasks(): number {
    return this.listeners.size;
  }

  /** Listeners over all tasks. */
  get listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Whether the process is subscribed (or subscribing) to an events channel. */
  get subscribed(): boolean {
    return this.subscriptions.size > 0;
  }

  onApplicationShutdown(): void {
    // The connection itself is closed by RedisConnections.
    this.cancelIdle();
  }

  /** Subscribes to the events channel of a task's queue (one subscription per queue somebody waits on). */
  private subscribe(channel: string): Promise<void> {
    const existing = this.subscriptions.get(channel);
    if (existing) return existing;
    const sub = this.connect();
    const subscription = sub.subscribe(channel).then(
      () => {
        this.confirmed = true;
      },
      // Only a closed connection (shutdown) rejects: ioredis queues SUBSCRIBE while Redis is away.
      () => {
        if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
        return new Promise<void>(noop);
      },
    );
    this.subscriptions.set(channel, subscription);
    return subscription;
  }

  private connect(): RedisClient {
    if (this.connection) return this.connection;
    const sub = this.redis.events;
    sub.on('message', (channel: string, message: string) => {
      if (!this.subscriptions.has(channel)) return;
      // One message per script call, one line per transition.
      let from = 0;
      for (let nl = message.indexOf('\n'); nl >= 0; nl = message.indexOf('\n', from)) {
        this.dispatch(message.slice(from, nl));
        from = nl + 1;
      }
      this.dispatch(message.slice(from));
    });
    // After a reconnect ioredis subscribes again on its own, but what was published in between is
    // lost: once subscribed again, every listener re-reads its task. A first connection is no
    // reconnect: its SUBSCRIBE was queued, and the watches' `ready` covers it.
    sub.on('ready', () => {
      if (this.subscriptions.size > 0 && this.confirmed) sub.subscribe(...this.subscriptions.keys()).then(() => this.resyncAll(), noop);
    });
    this.connection = sub;
    return sub;
  }

  /** `id|event|attempt`; ids are `[<queue>.]<id>`, base64url or UUID (no `|`). */
  private dispatch(message: string): void {
    const bar = message.indexOf('|');
    if (bar < 0) return;
    const id = message.slice(0, bar);
    const set = this.listeners.get(id);
    if (!set) return;
    const bar2 = message.indexOf('|', bar + 1);
    const name = bar2 < 0 ? message.slice(bar + 1) : message.slice(bar + 1, bar2);
    if (!isEventName(name)) return;
    const attempt = bar2 < 0 ? 0 : Number(message.slice(bar2 + 1)) || 0;
    // A copy: a listener may stop its watch while being called.
    for (const listener of [...set]) listener({ id, name, attempt });
  }

  private resyncAll(): void {
    for (const [id, set] of [...this.listeners]) for (const listener of [...set]) listener({ id, name: 'resync' });
  }

  private scheduleIdle(): void {
    if (this.subscriptions.size === 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.listeners.size > 0 || this.subscriptions.size === 0) return;
      const channels = [...this.subscriptions.keys()];
      this.subscriptions.clear();
      this.connection?.unsubscribe(...channels).catch(noop);
    }, this.unsubscribeAfterMs);
    this.idleTimer.unref();
  }

  private cancelIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
