/**
 * Fakes of the worker's collaborators for unit specs: a scripted queue (no Redis), a manual clock,
 * a recording logger and a handler whose attempts the spec settles by hand. Not part of the build.
 */
import type { Clock } from '../../common/clock';
import type { FetchResult, Lease, QueueRepository, Settlement, SettleResult } from '../../queue/queue.repository';
import type { LeasedTask } from '../../queue/task.model';
import type { HandlerRegistry, TaskTypeDefinition } from '../../task-types/handler-registry';
import type { TaskContext, TaskHandler, TaskHandlerOptions } from '../../task-types/task-handler';
import { attemptKey } from '../lease-table';

export function leased(id: string, token = 1, extra: Partial<LeasedTask> = {}): LeasedTask {
  return { id, token, type: 'fake', payload: '', retries: 0, maxRetry: 3, ...extra };
}

export class ManualClock implements Clock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

/** Stands in for PinoLogger: records (fields, message) calls. */
export class RecordingLogger {
  readonly lines: LogLine[] = [];
  debug(fields: object | string, msg?: string): void {
    this.add('debug', fields, msg);
  }
  info(fields: object | string, msg?: string): void {
    this.add('info', fields, msg);
  }
  warn(fields: object | string, msg?: string): void {
    this.add('warn', fields, msg);
  }
  error(fields: object | string, msg?: string): void {
    this.add('error', fields, msg);
  }
  messages(level?: LogLine['level']): string[] {
    return this.lines.filter((l) => !level || l.level === level).map((l) => l.msg);
  }
  private add(level: LogLine['level'], fields: object | string, msg?: string): void {
    if (typeof fields === 'string') this.lines.push({ level, fields: {}, msg: fields });
    else this.lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
  }
}

type QueuePart = Pick<QueueRepository, 'fetch' | 'waitForWork' | 'whenConnected' | 'heartbeat' | 'settle' | 'onCancel' | 'queueNames' | 'onQueueAdded'>;

/**
 * A queue in memory that hands out what the spec pushes. Settlements and heartbeats are recorded;
 * the spec decides which leases are lost and how settle answers (or fails).
 */
export class FakeQueue implements QueuePart {
  readonly ready: LeasedTask[] = [];
  readonly settled: Settlement[] = [];
  readonly heartbeats: Lease[][] = [];
  readonly fetchSizes: number[] = [];
  /** attemptKey of leases that heartbeat and settle treat as lost. */
  readonly lost = new Set<string>();
  /** Task ids that settle treats as deleted. */
  readonly deleted = new Set<string>();
  /** When set, fetch / settle / heartbeat reject with it. */
  fetchError?: Error;
  settleError?: Error;
  heartbeatError?: Error;
  settleCalls = 0;
  private cancelListener?: (id: string) => void;
  private waiters: Array<() => void> = [];

  push(...tasks: LeasedTask[]): void {
    this.ready.push(...tasks);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Publishes a delete on the cancel channel. */
  cancel(id: string): void {
    this.cancelListener?.(id);
  }

  get subscribed(): boolean {
    return this.cancelListener !== undefined;
  }

  fetch(max: number): Promise<FetchResult> {
    if (this.fetchError) return Promise.reject(this.fetchError);
    this.fetchSizes.push(max);
    return Promise.resolve({ tasks: this.ready.splice(0, max) });
  }

  waitForWork(_timeoutMs: number, stop: AbortSignal): Promise<void> {
    if (stop.aborted || this.ready.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      stop.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  whenConnected(): Promise<void> {
    return Promise.resolve();
  }

  queueNames(): Promise<string[]> {
    return Promise.resolve(['default']);
  }

  heartbeat(leases: Lease[]): Promise<Lease[]> {
    if (this.heartbeatError) return Promise.reject(this.heartbeatError);
    this.heartbeats.push(leases);
    return Promise.resolve(leases.filter((l) => this.lost.has(attemptKey(l))));
  }

  settle(settlements: Settlement[]): Promise<SettleResult[]> {
    this.settleCalls += 1;
    if (this.settleError) return Promise.reject(this.settleError);
    this.settled.push(...settlements);
    return Promise.resolve(
      settlements.map((s) => (this.deleted.has(s.lease.id) ? 'not-found' : this.lost.has(attemptKey(s.lease)) ? 'lease-lost' : 'applied')),
    );
  }

  /** No queue is ever announced: the fake has only `default`. */
  onQueueAdded(): () => void {
    return () => undefined;
  }

  onCancel(listener: (taskId: string) => void): () => void {
    this.cancelListener = listener;
    return () => {
      this.cancelListener = undefined;
    };
  }

  /** Outcomes written (handler starts left out). */
  /** The outcomes written, in order; a 'run' (a start fused with its completion) counts as its completion. */
  outcomes(): Settlement[] {
    return this.settled.filter((s) => s.mode !== 'start').map((s) => (s.mode === 'run' ? { ...s, mode: 'complete' } : s));
  }
}

/** One call of a ManualHandler: the spec ends it with resolve/reject, or watches its signal. */
export interface ManualAttempt {
  payload: string;
  context: TaskContext;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** A handler whose every attempt waits until the spec settles it. */
export class ManualHandler implements TaskHandler {
  readonly attempts: ManualAttempt[] = [];
  private arrivals: Array<() => void> = [];

  handle(payload: string, context: TaskContext): Promise<string> {
    return new Promise((resolve, reject) => {
      this.attempts.push({ payload, context, resolve: resolve as (v: unknown) => void, reject });
      const arrivals = this.arrivals;
      this.arrivals = [];
      for (const a of arrivals) a();
    });
  }

  /** Resolves once `n` attempts have started. */
  async started(n: number): Promise<ManualAttempt[]> {
    while (this.attempts.length < n) await new Promise<void>((r) => this.arrivals.push(r));
    return this.attempts;
  }
}

/** A registry with the given handlers by type, each with its @TaskHandler options (none unless given). */
export function registryOf(handlers: Record<string, TaskHandler>, options: Record<string, TaskHandlerOptions> = {}): HandlerRegistry {
  const definition = (type: string): TaskTypeDefinition | undefined =>
    Object.prototype.hasOwnProperty.call(handlers, type) ? { type, handler: handlers[type], options: options[type] ?? {} } : undefined;
  return {
    get: (type: string) => definition(type)?.handler,
    definition,
    types: () => Object.keys(handlers).sort(),
  } as unknown as HandlerRegistry;
}

/** Lets pending promise callbacks and one macrotask run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
