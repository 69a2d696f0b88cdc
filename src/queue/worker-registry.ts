import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { WorkerKeys } from './queue-keys';
import { runCommand } from './redis-command';
import { RedisConnections } from './redis-connections';

/** What a worker process says of itself in every heartbeat. */
export interface WorkerInfo {
  /** `<host>-<pid>`, the prefix of the worker ids in the tasks' attempt history. */
  id: string;
  host: string;
  pid: number;
  role: string;
  queues: string[];
  concurrency: number;
  /** Handlers running now. */
  inFlight: number;
  /** When the process started (epoch ms). */
  startedAt: number;
}

/** A live worker process as GET /workers shows it; lastHeartbeatAt is by Redis' clock. */
export interface WorkerEntry extends WorkerInfo {
  lastHeartbeatAt: number;
}

/**
 * The live worker processes, from heartbeat keys with a TTL (worker-beat.lua, workers.lua): a process
 * that dies without a word drops out when its TTL runs out; one that shuts down removes itself.
 */
@Injectable()
export class WorkerRegistry {
  private readonly keys: WorkerKeys;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.keys = new WorkerKeys(config.queue.prefix);
  }

  /** Writes the process's entry, alive for `ttlMs` from Redis' now. */
  async beat(info: WorkerInfo, ttlMs: number): Promise<void> {
    const k = this.keys;
    await runCommand(this.redis, () =>
      this.redis.commands.workerBeat(
        k.index,
        k.process(info.id),
        info.id,
        ttlMs,
        'host',
        info.host,
        'pid',
        info.pid,
        'role',
        info.role,
        'queues',
        info.queues.join(','),
        'concurrency',
        info.concurrency,
        'in_flight',
        info.inFlight,
        'started_at',
        info.startedAt,
      ),
    );
  }

  /** Removes the process's entry (shutdown). */
  async leave(id: string): Promise<void> {
    await runCommand(this.redis, () => this.redis.commands.workerLeave(this.keys.index, this.keys.process(id), id));
  }

  /** Every live worker process, by id. */
  async list(): Promise<WorkerEntry[]> {
    const k = this.keys;
    const reply = (await runCommand(this.redis, () => this.redis.commands.workers(k.index, k.processPrefix))) as unknown[];
    const entries: WorkerEntry[] = [];
    for (let i = 1; i < reply.length; i += 2) {
      const h = pairsToRecord(reply[i + 1] as string[]);
      entries.push({
        id: reply[i] as string,
        host: h.host ?? '',
        pid: Number(h.pid),
        role: h.role ?? '',
        queues: h.queues ? h.queues.split(',') : [],
        concurrency: Number(h.concurrency),
        inFlight: Number(h.in_flight),
        startedAt: Number(h.started_at),
        lastHeartbeatAt: Number(h.last_heartbeat_at),
      });
    }
    return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

function pairsToRecord(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
  return out;
}
