import { Injectable } from '@nestjs/common';
import { expandTaskHash } from './compact-task';
import { QueueKeys } from './queue-keys';
import { QueueRepository } from './queue.repository';
import { RedisConnections } from './redis-connections';
import { DEFAULT_QUEUE } from './task-id';
import { TASK_PRIORITIES } from './task-options';
import { TASK_STATUSES, TaskStatus } from './task.model';

export interface IntegrityViolation {
  kind:
    | 'bad-status'
    | 'missing-from-structure'
    | 'in-wrong-structure'
    | 'dangling-entry'
    | 'index-mismatch'
    | 'foreign-key';
  id: string;
  detail: string;
}

export interface IntegrityReport {
  /** The queues checked: every registered queue (and default). */
  queues: string[];
  tasks: number;
  byStatus: Record<TaskStatus, number>;
  violations: IntegrityViolation[];
}

const SCAN_COUNT = 1000;

/**
 * Scans every registered queue (QueueRepository.queueNames) and reports every broken invariant of the
 * data model; keys of a queue missing from the registry are reported too (its tasks would be served by
 * no worker that serves every queue). In each queue:
 * - each task is in exactly the structures its status calls for (pending: the queue of its priority
 *   level, `queue`, `queue:high` or `queue:low`; processing: active; completed/failed: none beyond its
 *   status index), in its own
 *   status index (a processing task has none: `active` lists it; a pending task queued at its creation
 *   time may have none: its queue zset lists it, lua/lib/common.lua PENDING_INDEX), and, when its
 *   priority is high or low, in that priority's index (`p:high`, `p:low`), and in
 *   no other (a finished task may also be in `st:<its status>:<its type>`, as tasks finished before
 *   finished tasks lost that index are: they leave it with the task);
 * - every entry of the queues, active and the indexes points at a task in the matching state;
 * - the legacy `done` zset (finished tasks of a process of an older version, QueueKeys.legacyDone) is a
 *   known key and not checked: recover.lua moves its entries into the status indexes, dropping those
 *   whose task is gone;
 * - a task's priority, when stored, is high or low (normal is stored as no field);
 * - idempotency keys (`idem:<key>`) are known keys; the task one names may be gone (deleted, retention);
 * - outcome counters (`stat:<minute>`, GET /stats) are known keys;
 * - every attempt history (`t:<id>:h`) belongs to a task;
 * - no key under the queue's base is of an unknown kind.
 * It reads everything (SCAN/ZSCAN, never KEYS) and is meant for tests, the chaos and fuzz runs and
 * operators (`npm run check-queue`), not for the request path. Run it on a quiet queue: tasks that
 * move while it scans can show up as violations that are not.
 */
@Injectable()
export class QueueIntegrityChecker {
  constructor(
    private readonly redis: RedisConnections,
    private readonly queue: QueueRepository,
  ) {}

  async check(): Promise<IntegrityReport> {
    const queues = await this.queue.queueNames();
    const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const violations: IntegrityViolation[] = [];
    let tasks = 0;
    for (const name of queues) {
      const report = await this.checkQueue(this.queue.keysOf(name));
      tasks += report.tasks;
      for (const s of TASK_STATUSES) byStatus[s] += report.byStatus[s];
      violations.push(...report.violations.map((v) => (name === DEFAULT_QUEUE ? v : { ...v, detail: `queue ${name}: ${v.detail}` })));
    }
    const prefix = this.queue.keys.prefix;
    const unregistered = new Set<string>();
    for await (const key of this.scanKeys(`${prefix}:{*}:*`)) {
      const tag = /^\{([^}]*)\}:/.exec(key.slice(prefix.length + 1))?.[1];
      // Tags starting with `_` belong to no queue (the workers' and the schedules' keys).
      if (tag !== undefined && !tag.startsWith('_') && !queues.includes(tag)) unregistered.add(tag);
    }
    for (const tag of unregistered) violations.push({ kind: 'foreign-key', id: '', detail: `keys of queue "${tag}", which is not in the registry` });
    return { queues, tasks, byStatus, violations };
  }

  private async checkQueue(k: QueueKeys): Promise<Omit<IntegrityReport, 'queues'>> {
    const client = this.redis.commands;
    const violations: IntegrityViolation[] = [];
    const tasks = new Map<string, { status: string; type: string; priority: string | null; created: string | null }>();
    const zsets = new Map<string, Map<string, string>>();
    const histories: string[] = [];

    for await (const key of this.scanKeys(`${k.base}*`)) {
      const rest = key.slice(k.base.length);
      if (rest.startsWith('t:') && rest.endsWith(':h')) {
        histories.push(rest.slice(2, -2));
      } else if (rest.startsWith('t:')) {
        const [status, type, priority, packed, created] = await client.hmget(key, 'status', 'type', 'priority', 'z', 'created_at');
        const completed = packed !== null ? expandTaskHash({ z: packed }) : undefined;
        tasks.set(rest.slice(2), { status: completed?.status ?? status ?? '', type: completed?.type ?? type ?? '', priority, created });
      } else if (
        ['queue', 'queue:high', 'queue:low', 'active', 'p:high', 'p:low'].includes(rest) ||
        rest.startsWith('s:') ||
        rest.startsWith('st:')
      ) {
        zsets.set(rest, await this.zmembers(key));
      } else if (rest !== 'marker' && rest !== 'paused' && rest !== 'done' && !rest.startsWith('idem:') && !rest.startsWith('stat:')) {
        violations.push({ kind: 'foreign-key', id: '', detail: `unexpected key ${key}` });
      }
    }

    const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const member = (name: string, id: string) => zsets.get(name)?.has(id) ?? false;
    const home: Record<TaskStatus, string> = { pending: 'queue', processing: 'active', completed: 's:completed', failed: 's:failed' };

    for (const [id, { status, type, priority, created }] of tasks) {
      if (!TASK_STATUSES.includes(status as TaskStatus) || !type) {
        violations.push({ kind: 'bad-status', id, detail: `status "${status}", type "${type}"` });
        continue;
      }
      if (priority !== null && (priority === 'normal' || !(TASK_PRIORITIES as readonly string[]).includes(priority))) {
        violations.push({ kind: 'bad-status', id, detail: `priority "${priority}"` });
        continue;
      }
      byStatus[status as TaskStatus] += 1;
      const stage = status === 'pending' && priority ? `queue:${priority}` : home[status as TaskStatus];
      // A pending task queued at its creation time is listed from its queue zset and needs no s:pending
      // entry (lua/lib/common.lua PENDING_INDEX); one is tolerated (an older version, or
      // STORE_TASK_DEFAULTS=true, writes it).
      // (A task missing from its queue zset is reported as that, not also as missing from s:pending.)
      const queueScore = zsets.get(stage)?.get(id);
      const queuedAtCreation = status === 'pending' && (queueScore === undefined || (created !== null && Number(queueScore) === Number(created)));
      const expected = new Set(status === 'processing' || queuedAtCreation ? [stage] : [stage, `s:${status}`]);
      // No status has an index per type now; an entry of one from an older version is tolerated when
      // it names the task's own status and type (lua/lib/common.lua index_remove).
      const tolerated = new Set(status === 'processing' ? [] : [`st:${status}:${type}`]);
      if (queuedAtCreation) tolerated.add('s:pending');
      if (priority) expected.add(`p:${priority}`);
      for (const name of expected) {
        if (!member(name, id)) violations.push({ kind: 'missing-from-structure', id, detail: `${status} task not in ${name}` });
      }
      for (const [name, ids] of zsets) {
        if (!expected.has(name) && !tolerated.has(name) && ids.has(id)) {
          violations.push({ kind: 'in-wrong-structure', id, detail: `${status} task also in ${name}` });
        }
      }
    }

    for (const [name, ids] of zsets) {
      for (const id of ids.keys()) {
        const task = tasks.get(id);
        if (!task) violations.push({ kind: 'dangling-entry', id, detail: `${name} entry without a task` });
        else if (name.startsWith('st:') && name !== `st:${task.status}:${task.type}`) {
          violations.push({ kind: 'index-mismatch', id, detail: `in ${name} but task is ${task.status}/${task.type}` });
        } else if (name.startsWith('p:') && name !== `p:${task.priority}`) {
          violations.push({ kind: 'index-mismatch', id, detail: `in ${name} but task is ${task.priority ?? 'normal'}` });
        }
      }
    }
    for (const id of histories) {
      if (!tasks.has(id)) violations.push({ kind: 'dangling-entry', id, detail: 'attempt history without a task' });
    }
    return { tasks: tasks.size, byStatus, violations: dedupe(violations) };
  }

  private async *scanKeys(pattern: string): AsyncGenerator<string> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.commands.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      yield* keys;
    } while (cursor !== '0');
  }

  /** Member -> score. */
  private async zmembers(key: string): Promise<Map<string, string>> {
    const members = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.commands.zscan(key, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) members.set(flat[i], flat[i + 1]);
    } while (cursor !== '0');
    return members;
  }
}

function dedupe(violations: IntegrityViolation[]): IntegrityViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.kind}|${v.id}|${v.detail}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
