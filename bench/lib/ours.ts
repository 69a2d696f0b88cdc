import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../../src/config/app-config';
import type { QueueKeys } from '../../src/queue/queue-keys';
import type { QueueRepository } from '../../src/queue/queue.repository';
import type { RedisConnections } from '../../src/queue/redis-connections';
import type { NewTask, TaskRecord } from '../../src/queue/task.model';
import { ROOT } from './util';

/**
 * Which code of our service the benchmark measures: a private build of src/ (bench/run.ts compiles
 * one per run, so a concurrent `npm run build` or an edit of src/ cannot change it mid-run), dist/ as
 * found, or src/ itself through ts-node / ts-jest (the smoke test).
 */
export interface OurCode {
  /** Absolute directory holding app.module, main, queue/... (.js, or .ts when `ts`). */
  dir: string;
  ts: boolean;
  label: string;
}

export const SRC_CODE: OurCode = { dir: join(ROOT, 'src'), ts: true, label: 'src/ through ts-node' };
export const DIST_CODE: OurCode = { dir: join(ROOT, 'dist'), ts: false, label: 'dist/ as found (--no-build)' };

export const PAYLOAD = 'hello world';
export const TASK_TYPE = 'echo';
export const MAX_RETRY = 3;
export const QUEUE_PREFIX = 'taskqueue';

const silentLogger = new Proxy({}, { get: () => () => undefined }) as PinoLogger;

async function load<T>(code: OurCode, rel: string): Promise<T> {
  return (await import(join(code.dir, rel))) as T;
}

/** Our QueueRepository, constructed like the service does (same connection options), in this process. */
export class OurQueue {
  private constructor(
    readonly repo: QueueRepository,
    private readonly connections: RedisConnections,
    private readonly parseTaskHash: typeof import('../../src/queue/task.model').parseTaskHash,
    private readonly taskIds: typeof import('../../src/queue/task-id'),
  ) {}

  /**
   * `redis`: a redis:// URL, or the environment naming the deployment as the service reads it
   * (e.g. `{ REDIS_CLUSTER_NODES: 'host:port,...' }`).
   */
  /** `env`: more configuration of the measured code (e.g. COMPACT_COMPLETED_TASKS). */
  static async open(redis: string | Record<string, string>, code: OurCode, env: Record<string, string> = {}): Promise<OurQueue> {
    const { loadAppConfig } = await load<typeof import('../../src/config/app-config')>(code, 'config/app-config');
    const { RedisConnections } = await load<typeof import('../../src/queue/redis-connections')>(code, 'queue/redis-connections');
    const { QueueRepository } = await load<typeof import('../../src/queue/queue.repository')>(code, 'queue/queue.repository');
    const { parseTaskHash } = await load<typeof import('../../src/queue/task.model')>(code, 'queue/task.model');
    const taskIds = await load<typeof import('../../src/queue/task-id')>(code, 'queue/task-id');
    const redisEnv = typeof redis === 'string' ? { REDIS_URL: redis } : redis;
    const config: AppConfig = loadAppConfig({ ...env, ...redisEnv, QUEUE_PREFIX, LOG_LEVEL: 'silent' });
    const connections = new RedisConnections(config, silentLogger);
    await connections.onModuleInit();
    if (connections.commands.status !== 'ready') throw new Error(`our queue cannot reach Redis at ${JSON.stringify(redisEnv)}`);
    return new OurQueue(new QueueRepository(connections, config), connections, parseTaskHash, taskIds);
  }

  /** The keys of the default queue. */
  get keys(): QueueKeys {
    return this.repo.keys;
  }

  /** The keys of any queue. */
  keysOf(queue: string): QueueKeys {
    return this.repo.keysOf(queue);
  }

  /** The command connection (a Cluster client on a Redis Cluster). */
  get client(): RedisConnections['commands'] {
    return this.connections.commands;
  }

  /** `n` new tasks of `queue` (ids by the measured code's newTaskId: the queue is part of the id). */
  newTasks(n: number, queue: string): NewTask[] {
    const out: NewTask[] = new Array(n);
    for (let i = 0; i < n; i += 1) out[i] = { id: this.taskIds.newTaskId(queue), queue, type: TASK_TYPE, payload: PAYLOAD, maxRetry: MAX_RETRY };
    return out;
  }

  /** Resolves to the tasks' created_at (Redis time). */
  enqueue(tasks: NewTask[]): Promise<number> {
    return this.repo.enqueue(tasks);
  }

  /**
   * The stored tasks (undefined where missing), decoded by the measured code's own parseTaskHash, so
   * the benchmark does not depend on how the hash spells its fields. HGETALL pipelined, 2000 at a time.
   */
  async readTasks(ids: string[]): Promise<(TaskRecord | undefined)[]> {
    const out: (TaskRecord | undefined)[] = new Array(ids.length);
    // A pipeline per queue: on a Redis Cluster one pipeline goes to one node, and a queue's keys share a slot.
    const byQueue = new Map<string, number[]>();
    ids.forEach((id, i) => {
      const queue = this.taskIds.queueOfTaskId(id);
      const list = byQueue.get(queue) ?? [];
      list.push(i);
      byQueue.set(queue, list);
    });
    for (const [queue, positions] of byQueue) {
      const k = this.keysOf(queue);
      for (let i = 0; i < positions.length; i += 2000) {
        const chunk = positions.slice(i, i + 2000);
        const pipe = this.connections.commands.pipeline();
        for (const p of chunk) pipe.hgetall(k.task(ids[p]));
        const res = (await pipe.exec()) ?? [];
        res.forEach(([err, h], j) => {
          if (err) throw err;
          out[chunk[j]] = this.parseTaskHash(ids[chunk[j]], h as Record<string, string>);
        });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.connections.onApplicationShutdown();
  }
}

export function newTask(type = TASK_TYPE, payload = PAYLOAD): NewTask {
  return { id: randomUUID(), type, payload, maxRetry: MAX_RETRY };
}

export function newTasks(n: number, type = TASK_TYPE, payload = PAYLOAD): NewTask[] {
  const out: NewTask[] = new Array(n);
  for (let i = 0; i < n; i += 1) out[i] = newTask(type, payload);
  return out;
}
