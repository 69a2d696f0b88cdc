import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { IntegrityViolation, QueueIntegrityChecker } from '../../src/queue/queue-integrity.checker';
import { newTaskId } from '../../src/queue/task-id';
import { LEASE_MS, QueueFixture, QueueHarness, T0 } from '../support/queue-harness';
import { TEST_REDIS_URL } from '../support/redis';
import { freePort } from '../support/service-process';

/**
 * The checker decides pass/fail for the chaos, fuzz and Redis-fault runs, so it must be shown to
 * catch things: each test lays out a healthy queue, breaks one invariant with raw Redis commands,
 * and expects the checker to name exactly that breakage (kind, id and detail), and nothing else. Then `check-queue` (the operators' CLI) is run as a process for its exit codes.
 */

type State = 'pending' | 'delayed' | 'processing' | 'completed' | 'failed';

/**
 * Writes task `id` in a state exactly as the data model (README, "Redis data model") lays it out:
 * the hash, the structure of its state (queue / active) and its listing indexes (a processing task has
 * none: `active` lists it; a finished one has only its status index, scored by its finish time). Written
 * with plain commands rather than through the scripts so the spec pins the model the checker
 * checks, not the current script signatures; that the scripts leave a clean queue is shown by the
 * fuzz and chaos runs, which end with this checker.
 */
async function arrange(q: QueueFixture, id: string, state: State, type: string, priority?: 'high' | 'low'): Promise<void> {
  const status = state === 'delayed' ? 'pending' : state;
  const fields: Record<string, string | number> = {
    type, payload: `{"id":"${id}"}`, status, retries: 0, max_retry: 3, attempts: 0, created_at: T0, updated_at: T0,
  };
  const r = q.redis.multi();
  if (priority) {
    fields.priority = priority;
    r.zadd(q.keys.byPriority(priority), T0, id);
  }
  if (state === 'pending') r.zadd(q.keys.queueFor(priority), T0, id);
  if (state === 'delayed') {
    Object.assign(fields, { retries: 1, attempts: 1, error: 'boom', run_at: T0 + 60_000, started_at: T0 });
    r.zadd(q.keys.queueFor(priority), T0 + 60_000, id);
  }
  if (state === 'processing') {
    Object.assign(fields, { attempts: 1, started_at: T0 });
    r.zadd(q.keys.active, T0 + LEASE_MS, id);
  }
  if (state === 'completed' || state === 'failed') {
    Object.assign(fields, { attempts: 1, started_at: T0, completed_at: T0 + 1, updated_at: T0 + 1 });
    Object.assign(fields, state === 'completed' ? { result: 'ok' } : { error: 'boom' });
  }
  r.hset(q.keys.task(id), fields);
  // A pending task queued at its creation time is listed from its queue zset: no s:pending entry
  // (lua/lib/common.lua PENDING_INDEX); a delayed one has one.
  if (status !== 'processing' && state !== 'pending') r.zadd(q.keys.byStatus(status), status === 'completed' || status === 'failed' ? T0 + 1 : T0, id);
  r.zadd(q.keys.marker, 0, '0');
  await r.exec();
}

/**
 * The victim 'v' (type 'job', of `priority`) in `state`, among one healthy task of type 'other' in every
 * state the service produces, a high one waiting, a low one completed, and two idempotency keys (one
 * naming a task, one naming a task that was deleted).
 */
async function build(q: QueueFixture, state?: State, priority?: 'high' | 'low'): Promise<void> {
  const tasks: Array<[string, State, string, ('high' | 'low')?]> = (['delayed', 'processing', 'completed', 'failed', 'pending'] as const).map(
    (s) => [`ok-${s}`, s, 'other'],
  );
  tasks.push(['ok-high', 'delayed', 'other', 'high'], ['ok-low', 'completed', 'other', 'low']);
  if (state) tasks.push(['v', state, 'job', priority]);
  for (const [id, s, type, p] of tasks) await arrange(q, id, s, type, p);
  await q.redis.set(q.keys.idempotency('order-1'), 'ok-high|hash', 'EX', 3600);
  await q.redis.set(q.keys.idempotency('order-2'), 'deleted-task|hash', 'EX', 3600);
}

const v = (kind: IntegrityViolation['kind'], id: string, detail: string): IntegrityViolation => ({ kind, id, detail });
const sorted = (list: IntegrityViolation[]) =>
  [...list].sort((a, b) => `${a.kind}|${a.id}|${a.detail}`.localeCompare(`${b.kind}|${b.id}|${b.detail}`));

interface Plant {
  name: string;
  /** The victim's state before the fault is planted. */
  state: State;
  /** The victim's priority level (normal when absent). */
  priority?: 'high' | 'low';
  /** Breaks one invariant of task 'v' (type 'job') with raw commands on the queue's keys. */
  plant: (q: QueueFixture) => Promise<unknown>;
  /** Everything the checker must report, and nothing else (a function where the detail names a full key). */
  expected: IntegrityViolation[] | ((q: QueueFixture) => IntegrityViolation[]);
}

const PLANTS: Plant[] = [
  // An id in two state structures.
  {
    name: 'a pending task that is also in active',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.active, T0 + LEASE_MS, 'v'),
    expected: [v('in-wrong-structure', 'v', 'pending task also in active')],
  },
  {
    name: 'a processing task that is also in queue',
    state: 'processing',
    plant: (q) => q.redis.zadd(q.keys.queue, T0, 'v'),
    expected: [v('in-wrong-structure', 'v', 'processing task also in queue')],
  },
  {
    name: 'a processing task that is also in s:completed',
    state: 'processing',
    plant: (q) => q.redis.zadd(q.keys.byStatus('completed'), T0, 'v'),
    expected: [v('in-wrong-structure', 'v', 'processing task also in s:completed')],
  },
  // A terminal task back in a pending or running structure.
  {
    name: 'a completed task in queue',
    state: 'completed',
    plant: (q) => q.redis.zadd(q.keys.queue, T0, 'v'),
    expected: [v('in-wrong-structure', 'v', 'completed task also in queue')],
  },
  {
    name: 'a failed task in active',
    state: 'failed',
    plant: (q) => q.redis.zadd(q.keys.active, T0 + LEASE_MS, 'v'),
    expected: [v('in-wrong-structure', 'v', 'failed task also in active')],
  },
  // Missing from the structure its status calls for.
  {
    name: 'a processing task without a lease (not in active)',
    state: 'processing',
    plant: (q) => q.redis.zrem(q.keys.active, 'v'),
    expected: [v('missing-from-structure', 'v', 'processing task not in active')],
  },
  {
    name: 'a pending task that is not in queue (it would never run)',
    state: 'pending',
    plant: (q) => q.redis.zrem(q.keys.queue, 'v'),
    expected: [v('missing-from-structure', 'v', 'pending task not in queue')],
  },
  {
    name: 'a waiting retry that is not in queue',
    state: 'delayed',
    plant: (q) => q.redis.zrem(q.keys.queue, 'v'),
    expected: [v('missing-from-structure', 'v', 'pending task not in queue')],
  },
  {
    name: 'a completed task that is not in s:completed (never listed, never purged)',
    state: 'completed',
    plant: (q) => q.redis.zrem(q.keys.byStatus('completed'), 'v'),
    expected: [v('missing-from-structure', 'v', 'completed task not in s:completed')],
  },
  // A task hash without its index entries.
  {
    name: 'a task hash without its status index entry',
    state: 'delayed',
    plant: (q) => q.redis.zrem(q.keys.byStatus('pending'), 'v'),
    expected: [v('missing-from-structure', 'v', 'pending task not in s:pending')],
  },
  {
    // Queued again at another time than its creation: its queue zset no longer lists it.
    name: 'a pending task moved in its queue zset without an s:pending entry',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.queue, T0 + 5, 'v'),
    expected: [v('missing-from-structure', 'v', 'pending task not in s:pending')],
  },
  {
    // What an older version (or STORE_TASK_DEFAULTS=true) writes besides; fetch removes it.
    name: 'a pending task queued at its creation time with an s:pending entry',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.byStatus('pending'), T0, 'v'),
    expected: [],
  },
  {
    // What a version before 2026-12-01 wrote besides; fetch empties it (no violation).
    name: 'a pending task with a legacy status+type entry of its own status and type',
    state: 'delayed',
    plant: (q) => q.redis.zadd(q.keys.byStatusAndType('pending', 'job'), T0, 'v'),
    expected: [],
  },
  // ...and the reverse: entries whose task hash is gone.
  {
    name: 'an active id without a task (the hash deleted under a running task)',
    state: 'processing',
    plant: (q) => q.redis.del(q.keys.task('v')),
    expected: [v('dangling-entry', 'v', 'active entry without a task')],
  },
  {
    name: 'a queue id without a task',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.queue, T0, 'ghost'),
    expected: [v('dangling-entry', 'ghost', 'queue entry without a task')],
  },
  {
    // The zset of finished tasks of an older version: recover.lua drains it (entries of gone tasks too).
    name: 'the legacy done zset, even with an id without a task (no violation)',
    state: 'completed',
    plant: async (q) => {
      await q.redis.zadd(q.keys.legacyDone, T0 + 1, 'v');
      await q.redis.zadd(q.keys.legacyDone, T0, 'ghost');
    },
    expected: [],
  },
  {
    name: 'index entries without a task',
    state: 'pending',
    plant: async (q) => {
      await q.redis.zadd(q.keys.byStatus('completed'), T0, 'ghost');
      await q.redis.zadd(q.keys.byStatusAndType('failed', 'job'), T0, 'ghost2');
    },
    expected: [
      v('dangling-entry', 'ghost', 's:completed entry without a task'),
      v('dangling-entry', 'ghost2', 'st:failed:job entry without a task'),
    ],
  },
  // Status and indexes disagree.
  {
    name: 'a pending task also listed under another status',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.byStatus('failed'), T0, 'v'),
    expected: [v('in-wrong-structure', 'v', 'pending task also in s:failed')],
  },
  {
    name: 'a completed task also in the status+type index of another status',
    state: 'completed',
    plant: (q) => q.redis.zadd(q.keys.byStatusAndType('processing', 'job'), T0, 'v'),
    expected: [
      v('in-wrong-structure', 'v', 'completed task also in st:processing:job'),
      v('index-mismatch', 'v', 'in st:processing:job but task is completed/job'),
    ],
  },
  {
    name: 'a task in the status+type index of another type',
    state: 'processing',
    plant: (q) => q.redis.zadd(q.keys.byStatusAndType('processing', 'mail'), T0, 'v'),
    expected: [
      v('in-wrong-structure', 'v', 'processing task also in st:processing:mail'),
      v('index-mismatch', 'v', 'in st:processing:mail but task is processing/job'),
    ],
  },
  {
    name: 'a hash whose status changed without its structures (pending hash says completed)',
    state: 'pending',
    plant: (q) => q.redis.hset(q.keys.task('v'), 'status', 'completed'),
    expected: [
      v('missing-from-structure', 'v', 'completed task not in s:completed'),
      v('in-wrong-structure', 'v', 'completed task also in queue'),
    ],
  },
  {
    name: 'a pending task whose legacy status+type entry names another type',
    state: 'pending',
    plant: async (q) => {
      await q.redis.zadd(q.keys.byStatusAndType('pending', 'job'), T0, 'v');
      await q.redis.hset(q.keys.task('v'), 'type', 'mail');
    },
    expected: [
      v('in-wrong-structure', 'v', 'pending task also in st:pending:job'),
      v('index-mismatch', 'v', 'in st:pending:job but task is pending/mail'),
    ],
  },
  // Finished tasks have no status+type index; one finished before (or by an older version) has an
  // entry there that leaves with the task: tolerated when it names the task's own status and type.
  {
    name: 'a finished task with a status+type entry of another type',
    state: 'failed',
    plant: (q) => q.redis.zadd(q.keys.byStatusAndType('failed', 'mail'), T0, 'v'),
    expected: [
      v('in-wrong-structure', 'v', 'failed task also in st:failed:mail'),
      v('index-mismatch', 'v', 'in st:failed:mail but task is failed/job'),
    ],
  },
  {
    name: 'a completed task with a status+type entry of the other final status',
    state: 'completed',
    plant: (q) => q.redis.zadd(q.keys.byStatusAndType('failed', 'job'), T0, 'v'),
    expected: [
      v('in-wrong-structure', 'v', 'completed task also in st:failed:job'),
      v('index-mismatch', 'v', 'in st:failed:job but task is completed/job'),
    ],
  },
  // Hashes that are not tasks of the model.
  {
    name: 'a task with a status the model does not have',
    state: 'pending',
    plant: (q) => q.redis.hset(q.keys.task('v'), 'status', 'running'),
    expected: [
      v('bad-status', 'v', 'status "running", type "job"'),
    ],
  },
  {
    name: 'a task hash without a status',
    state: 'delayed',
    plant: (q) => q.redis.hdel(q.keys.task('v'), 'status'),
    expected: [
      v('bad-status', 'v', 'status "", type "job"'),
    ],
  },
  {
    name: 'a task hash without a type',
    state: 'pending',
    plant: (q) => q.redis.hdel(q.keys.task('v'), 'type'),
    expected: [
      v('bad-status', 'v', 'status "pending", type ""'),
    ],
  },
  // Priority levels.
  {
    name: 'a high task waiting in the normal queue',
    state: 'delayed',
    priority: 'high',
    plant: async (q) => {
      await q.redis.zrem(q.keys.queueFor('high'), 'v');
      await q.redis.zadd(q.keys.queue, T0, 'v');
    },
    expected: [v('missing-from-structure', 'v', 'pending task not in queue:high'), v('in-wrong-structure', 'v', 'pending task also in queue')],
  },
  {
    name: 'a low task without its priority index entry',
    state: 'failed',
    priority: 'low',
    plant: (q) => q.redis.zrem(q.keys.byPriority('low'), 'v'),
    expected: [v('missing-from-structure', 'v', 'failed task not in p:low')],
  },
  {
    name: 'a normal task in a priority index',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.byPriority('low'), T0, 'v'),
    expected: [v('in-wrong-structure', 'v', 'pending task also in p:low'), v('index-mismatch', 'v', 'in p:low but task is normal')],
  },
  {
    name: 'a priority index entry without a task',
    state: 'pending',
    plant: (q) => q.redis.zadd(q.keys.byPriority('high'), T0, 'ghost'),
    expected: [v('dangling-entry', 'ghost', 'p:high entry without a task')],
  },
  {
    name: 'a task with a priority the model does not have',
    state: 'completed',
    plant: (q) => q.redis.hset(q.keys.task('v'), 'priority', 'urgent'),
    expected: [v('bad-status', 'v', 'priority "urgent"')],
  },
  // Keys of no known kind under the queue base.
  {
    name: 'a key of unknown kind under the queue base',
    state: 'pending',
    plant: (q) => q.redis.set(`${q.keys.base}lock:v`, '1'),
    expected: (q) => [v('foreign-key', '', `unexpected key ${q.keys.base}lock:v`)],
  },
];

describe('QueueIntegrityChecker on planted violations (real Redis)', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  const check = (q: QueueFixture) => new QueueIntegrityChecker(harness.connections, q.repo).check();

  it('finds nothing wrong in a healthy queue: a task in every state, the marker set', async () => {
    const q = harness.queue();
    await build(q, 'pending');
    expect(await q.markerSet()).toBe(true);

    const report = await check(q);

    expect(report.violations).toEqual([]);
    expect(report.tasks).toBe(8);
    expect(report.byStatus).toEqual({ pending: 4, processing: 1, completed: 2, failed: 1 });
  });

  it('tolerates the status+type entry a task finished before (or by an older version) keeps, as it was written then', async () => {
    const q = harness.queue();
    await build(q, 'completed');
    await q.redis.zadd(q.keys.byStatusAndType('completed', 'job'), T0, 'v');

    expect((await check(q)).violations).toEqual([]);
  });

  it('finds nothing wrong in an empty queue', async () => {
    const report = await check(harness.queue());
    expect(report).toEqual({ queues: ['default'], tasks: 0, byStatus: { pending: 0, processing: 0, completed: 0, failed: 0 }, violations: [] });
  });

  it('checks every registered queue, naming the queue of a fault, and reports keys of a queue missing from the registry', async () => {
    const q = harness.queue();
    await build(q);
    const id = newTaskId('other');
    await q.repo.submit([{ id, queue: 'other', type: 'job', payload: '', maxRetry: 1 }]);
    await q.repo.pause('other');
    const clean = await check(q);
    expect(clean.queues).toEqual(['default', 'other']);
    expect(clean.violations).toEqual([]);
    expect(clean.tasks).toBe(8);

    const other = q.repo.keysOf('other');
    await q.redis.zadd(other.active, T0 + LEASE_MS, id);
    await q.redis.hset(`${q.prefix}:{ghost}:t:x`, 'type', 'job', 'status', 'pending');
    expect(sorted((await check(q)).violations)).toEqual(
      sorted([v('in-wrong-structure', id, 'queue other: pending task also in active'), v('foreign-key', '', 'keys of queue "ghost", which is not in the registry')]),
    );
  });

  it.each(PLANTS)('names $name', async ({ state, priority, plant, expected }) => {
    const q = harness.queue();
    await build(q, state, priority);
    expect((await check(q)).violations).toEqual([]);

    await plant(q);

    const want = typeof expected === 'function' ? expected(q) : expected;
    expect(sorted((await check(q)).violations)).toEqual(sorted(want));
  });
});

// ---------------------------------------------------------------------------------------------
// npm run check-queue, as a process
// ---------------------------------------------------------------------------------------------

const ROOT = join(__dirname, '..', '..');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run check-queue` without npm in between: the same ts-node command, on the given environment only. */
function runCheckQueue(env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src/cli/check-queue.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Only a guard against a hang; the run takes a few seconds.
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('check-queue exit codes', () => {
  const harness = new QueueHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.close());

  it('exits 0 and prints the report for a clean queue', async () => {
    const q = harness.queue();
    await build(q);

    const run = await runCheckQueue({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: q.prefix });

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      queue_prefix: q.prefix,
      queues: ['default'],
      tasks: 7,
      byStatus: { pending: 3, processing: 1, completed: 2, failed: 1 },
      violations: [],
    });
  }, 60_000);

  it('exits 1 and names the violation when an invariant is broken', async () => {
    const q = harness.queue();
    await build(q);
    await q.redis.zadd(q.keys.queue, T0, 'ok-completed');

    const run = await runCheckQueue({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: q.prefix });

    expect(run).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(run.stdout).violations).toEqual([v('in-wrong-structure', 'ok-completed', 'completed task also in queue')]);
  }, 60_000);

  it('exits 2 when Redis does not answer', async () => {
    const port = await freePort();

    const run = await runCheckQueue({ REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: harness.queue().prefix });

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^check-queue failed: /);
  }, 60_000);

  it('exits 2 and names every bad variable when the configuration is invalid', async () => {
    const run = await runCheckQueue({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: 'bad prefix!', LOG_LEVEL: 'loud' });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Invalid configuration:/);
    expect(run.stderr).toContain('QUEUE_PREFIX');
    expect(run.stderr).toContain('LOG_LEVEL');
  }, 60_000);
});
