import { Injectable } from '@nestjs/common';
import { checkScriptResult } from './queue-errors';
import { QueueRepository } from './queue.repository';
import { runCommand } from './redis-command';
import { infoField } from './redis-server-check';
import { RedisConnections } from './redis-connections';
import { queueOfTaskId } from './task-id';
import { TaskStatus } from './task.model';

/** Most tasks one admin script call handles, so Redis is never blocked for long by a bulk action. */
export const ADMIN_CHUNK = 500;

/** What retryTask did: sent the task back, or nothing because it is in another state (named). */
export type RetryTaskResult = { retried: true } | { retried: false; status: TaskStatus };

/** One minute of outcome counters (minute = epoch ms / 60000, floored). */
export interface MinuteCount {
  minute: number;
  completed: number;
  failed: number;
}

/** Redis' own figures for GET /stats. */
export interface RedisServerInfo {
  version: string;
  usedMemory: number;
}

/**
 * The operator's actions on tasks (retry, bulk retry, bulk delete) and the reads of GET /stats that
 * QueueRepository does not do: one method per Lua script. Bulk actions go in chunks of at most
 * ADMIN_CHUNK tasks per script call; between calls Redis serves everyone else.
 */
@Injectable()
export class QueueAdminRepository {
  constructor(
    private readonly redis: RedisConnections,
    private readonly queue: QueueRepository,
  ) {}

  /** A failed task goes back to pending, due now, with a fresh retry budget (retry-task.lua). */
  async retryTask(id: string): Promise<RetryTaskResult> {
    const k = this.queue.keysOf(queueOfTaskId(id));
    const reply = await runCommand(this.redis, () => this.redis.commands.retryTask(k.task(id), k.queue, k.marker, k.base, id));
    if (typeof reply === 'string') return { retried: false, status: reply as TaskStatus };
    checkScriptResult(reply as number, id);
    return { retried: true };
  }

  /**
   * Sends every failed task of the queue (of one type, when given) back to pending, in chunks; resolves
   * to how many. Tasks that fail again meanwhile are not taken twice: it stops after as many entries
   * as the index held at the start.
   */
  async retryFailed(queue: string, type?: string): Promise<number> {
    const k = this.queue.keysOf(queue);
    let retried = 0;
    let budget = Infinity;
    // Failed tasks have no index per type: with a type, the others are kept and skipped (offset).
    let offset = 0;
    while (budget > 0) {
      const limit = Math.min(ADMIN_CHUNK, budget);
      const [sent, handled, size, kept] = (await runCommand(this.redis, () =>
        this.redis.commands.retryFailed(k.byStatus('failed'), k.queue, k.marker, k.base, limit, type ?? '', offset),
      )) as [number, number, number, number];
      if (budget === Infinity) budget = size;
      retried += sent;
      budget -= handled;
      offset += kept;
      if (handled < limit) break;
    }
    return retried;
  }

  /**
   * Deletes the tasks of the queue in one final status, in chunks; with `olderThanMs`, only those that
   * finished at least that long ago (by Redis' clock, fixed at the first chunk). Resolves to how many.
   */
  async deleteFinished(queue: string, status: 'completed' | 'failed', olderThanMs?: number): Promise<number> {
    const k = this.queue.keysOf(queue);
    let deleted = 0;
    let cutoff = '';
    for (;;) {
      const [removed, examined, used] = (await runCommand(this.redis, () =>
        this.redis.commands.deleteFinished(k.byStatus(status), k.base, status, ADMIN_CHUNK, cutoff, olderThanMs ?? ''),
      )) as [number, number, string];
      deleted += removed;
      cutoff = used;
      if (examined < ADMIN_CHUNK) return deleted;
    }
  }

  /** The outcome counters of the last `minutes` minutes, oldest first, ending with the current one (Redis' clock). */
  async outcomeCounts(queue: string, minutes: number): Promise<{ now: number; minutes: MinuteCount[] }> {
    const k = this.queue.keysOf(queue);
    const reply = (await runCommand(this.redis, () => this.redis.commands.outcomeCounts(k.queue, k.base, minutes))) as (string | number)[];
    const now = Number(reply[0]);
    const current = Math.floor(now / 60_000);
    const counts: MinuteCount[] = [];
    for (let i = 0; i < minutes; i += 1) {
      counts.push({ minute: current - minutes + 1 + i, completed: Number(reply[1 + 2 * i]), failed: Number(reply[2 + 2 * i]) });
    }
    return { now, minutes: counts };
  }

  /** redis_version and used_memory from INFO (of the node that answers, on Cluster). */
  async serverInfo(): Promise<RedisServerInfo> {
    const [server, memory] = await runCommand(this.redis, () => Promise.all([this.redis.commands.info('server'), this.redis.commands.info('memory')]));
    return { version: infoField(server, 'redis_version') ?? 'unknown', usedMemory: Number(infoField(memory, 'used_memory') ?? 0) };
  }
}
