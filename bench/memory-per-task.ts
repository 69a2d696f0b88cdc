/**
 * Redis bytes per queued (pending) and per completed task, by structure, for ours and for BullMQ's
 * waiting and completed job in the same run, on a private redis-server (nothing else on it).
 *
 *   npx ts-node --transpile-only bench/memory-per-task.ts [--tasks=20000] [--fetch=50] [--reps=1] [--code=<dir>[::K=V,...]]...
 *
 * Ours: N echo tasks drained through QueueRepository as a worker does (bulk enqueue with ids from the
 * measured code's newTaskId, fetch in batches, settle 'start' with a worker id, settle 'complete' with
 * the echo handler's result `echo: hello world`). BullMQ: N jobs with the bench's job options (bench/lib/bull.ts),
 * drained by an in-process Worker (concurrency 50) returning the same result; the worker is closed
 * before measuring. For each: INFO used_memory after FLUSHALL, after all N are queued and after all N finished, divided by N,
 * and every key's MEMORY USAGE (SAMPLES 0: exact), summed by kind of key (the task / job hash with its
 * key, each index, the rest); "other" = used_memory delta minus the keys (allocator and dict growth).
 * `--code=<dir>::COMPACT_COMPLETED_TASKS=false` measures that tree with more configuration (K=V pairs
 * after `::`, comma-separated), e.g. `--code=src --code=src::COMPACT_COMPLETED_TASKS=false` both layouts.
 * `--code=<dir>` (repeatable) measures another tree's src/ (e.g. a git worktree of an older commit),
 * each in the same run; default: this tree's src/.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Job, Queue, Worker } from 'bullmq';
import { BULL_JOB_OPTS, BULL_PREFIX, BULL_QUEUE } from './lib/bull';
import { BenchRedis } from './lib/redis-server';
import { parseCodeSpec } from './lib/util';
import { MAX_RETRY, OurCode, OurQueue, PAYLOAD, SRC_CODE, TASK_TYPE } from './lib/ours';

function arg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.split('=')[1]) : fallback;
}

const RESULT = `echo: ${PAYLOAD}`;

/** Bytes by kind of key (MEMORY USAGE summed) and the count of keys / entries of each kind. */
type Breakdown = Map<string, { bytes: number; keys: number; entries: number }>;

interface Measured {
  label: string;
  perTask: number;
  /** Bytes per task / job once all N are queued, before any ran (used_memory delta / N). */
  perQueued: number;
  /** Bytes by structure once all N are queued (MEMORY USAGE summed). */
  queuedBreakdown: Breakdown;
  breakdown: Breakdown;
  /** Fields of one completed task hash, as stored (for the report). */
  sample?: Record<string, string>;
}

async function breakdown(redis: BenchRedis, kindOf: (key: string) => string): Promise<Breakdown> {
  const out: Breakdown = new Map();
  let cursor = '0';
  do {
    const [next, keys] = await redis.admin.scan(cursor, 'COUNT', 5000);
    cursor = next;
    const pipe = redis.admin.pipeline();
    for (const k of keys) {
      pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
      pipe.type(k);
    }
    const res = (await pipe.exec()) ?? [];
    const lengths = redis.admin.pipeline();
    keys.forEach((k, i) => {
      const type = String(res[2 * i + 1][1]);
      if (type === 'zset') lengths.zcard(k);
      else if (type === 'list') lengths.llen(k);
      else if (type === 'stream') lengths.xlen(k);
      else if (type === 'set') lengths.scard(k);
      else lengths.exists(k);
    });
    const lens = (await lengths.exec()) ?? [];
    keys.forEach((k, i) => {
      const kind = kindOf(k);
      const row = out.get(kind) ?? { bytes: 0, keys: 0, entries: 0 };
      row.bytes += Number(res[2 * i][1]);
      row.keys += 1;
      row.entries += Number(lens[i][1]);
      out.set(kind, row);
    });
  } while (cursor !== '0');
  return out;
}

async function measureOurs(redis: BenchRedis, code: OurCode, n: number, fetchBatch: number, env: Record<string, string>): Promise<Measured> {
  const { newTaskId } = (await import(join(code.dir, 'queue/task-id'))) as typeof import('../src/queue/task-id');
  const q = await OurQueue.open(redis.url, code, env);
  try {
    await redis.flush();
    const base_ = q.keys.base;
    const kindOf = (key: string): string => {
      if (!key.startsWith(base_)) return `other key ${key}`;
      const rest = key.slice(base_.length);
      if (rest.startsWith('t:')) return rest.endsWith(':h') ? 'history list t:<id>:h' : 'task hash t:<id> (key included)';
      if (rest.startsWith('s:')) return `index ${rest}`;
      if (rest.startsWith('st:')) return `index ${rest.replace(/:[^:]*$/, ':<type>')}`;
      if (rest.startsWith('stat:')) return 'stat:<minute>';
      return `index ${rest}`;
    };
    const base = await redis.usedMemory();
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - i) }, () => ({ id: newTaskId(), type: TASK_TYPE, payload: PAYLOAD, maxRetry: MAX_RETRY }));
      ids.push(...batch.map((t) => t.id));
      await q.repo.enqueue(batch);
    }
    const queued = await redis.usedMemory();
    const queuedBreakdown = await breakdown(redis, kindOf);
    const workerId = `${hostname()}-${process.pid}/1`;
    for (let done = 0; done < n; ) {
      const { tasks } = await q.repo.fetch(fetchBatch, 30_000);
      if (tasks.length === 0) throw new Error('queue ran dry');
      await q.repo.settle(tasks.map((lease) => ({ lease, mode: 'start' as const, text: '', workerId })));
      const codes = await q.repo.settle(tasks.map((lease) => ({ lease, mode: 'complete' as const, text: RESULT })));
      if (codes.length !== tasks.length) throw new Error('settle answered fewer codes');
      done += tasks.length;
    }
    const after = await redis.usedMemory();
    const sample = await redis.admin.hgetall(q.keys.task(ids[Math.floor(n / 2)]));
    return {
      label: `ours (${code.label})`,
      perTask: (after - base) / n,
      perQueued: (queued - base) / n,
      queuedBreakdown,
      breakdown: await breakdown(redis, kindOf),
      sample,
    };
  } finally {
    await q.close();
  }
}

async function measureBull(redis: BenchRedis, n: number): Promise<Measured> {
  await redis.flush();
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue(BULL_QUEUE, { connection, prefix: BULL_PREFIX });
  await queue.waitUntilReady();
  const base = await redis.usedMemory();
  let ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const jobs = await queue.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, () => ({ name: TASK_TYPE, data: { payload: PAYLOAD }, opts: BULL_JOB_OPTS })),
    );
    ids = ids.concat(jobs.map((j) => j.id as string));
  }
  const prefix = `${BULL_PREFIX}:${BULL_QUEUE}:`;
  const kindOf = (key: string): string => {
    if (!key.startsWith(prefix)) return `other key ${key}`;
    const rest = key.slice(prefix.length);
    if (/^\d+$/.test(rest)) return 'job hash <id> (key included)';
    if (/^\d+:/.test(rest)) return `job ${rest.replace(/^\d+/, '<id>')}`;
    return `index ${rest}`;
  };
  const queued = await redis.usedMemory();
  const queuedBreakdown = await breakdown(redis, kindOf);
  let completed = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const worker = new Worker(BULL_QUEUE, async (job: Job) => `echo: ${job.data.payload}`, { connection, prefix: BULL_PREFIX, concurrency: 50 });
  worker.on('completed', () => {
    completed += 1;
    if (completed === n) resolveAll();
  });
  await all;
  await worker.close();
  await queue.close();
  const after = await redis.usedMemory();
  const sample = await redis.admin.hgetall(`${prefix}${ids[Math.floor(n / 2)]}`);
  return {
    label: 'BullMQ',
    perTask: (after - base) / n,
    perQueued: (queued - base) / n,
    queuedBreakdown,
    breakdown: await breakdown(redis, kindOf),
    sample,
  };
}

function printBreakdown(title: string, perTask: number, b: Breakdown, n: number): void {
  const w = (s: string, k: number) => s.padEnd(k);
  const rows = [...b.entries()].sort((x, y) => y[1].bytes - x[1].bytes);
  const keyed = rows.reduce((s, [, r]) => s + r.bytes, 0);
  process.stdout.write(`${title}: ${perTask.toFixed(1)} B (used_memory delta / ${n})\n`);
  process.stdout.write(`  ${w('structure', 40)} ${w('B/task', 8)} ${w('keys', 7)} entries\n`);
  for (const [kind, r] of rows) {
    process.stdout.write(`  ${w(kind, 40)} ${w((r.bytes / n).toFixed(1), 8)} ${w(String(r.keys), 7)} ${r.entries}\n`);
  }
  process.stdout.write(`  ${w('other (used_memory delta - keys)', 40)} ${(perTask - keyed / n).toFixed(1)}\n`);
}

function print(m: Measured, n: number): void {
  process.stdout.write(`\n`);
  printBreakdown(`${m.label}, per queued task (all ${n} pending)`, m.perQueued, m.queuedBreakdown, n);
  printBreakdown(`${m.label}, per completed task`, m.perTask, m.breakdown, n);
  if (m.sample) {
    const fields = Object.entries(m.sample);
    const bytes = fields.reduce((s, [f, v]) => s + Buffer.byteLength(f) + Buffer.byteLength(v), 0);
    process.stdout.write(`  one hash: ${fields.length} fields, ${bytes} bytes of names and values: ${JSON.stringify(m.sample)}\n`);
  }
}

async function main(): Promise<void> {
  const n = arg('tasks', 20_000);
  const fetchBatch = arg('fetch', 50);
  const reps = arg('reps', 1);
  const specs = process.argv.filter((a) => a.startsWith('--code=')).map((a) => a.slice('--code='.length));
  const codes: { code: OurCode; env: Record<string, string> }[] = specs.length
    ? specs.map((spec) => {
        const { dir, env } = parseCodeSpec(spec);
        // Resolved: the measured code is loaded with require(join(dir, ...)), which takes a bare `src/...` for a package name.
        return { code: { dir: resolve(dir), ts: true, label: spec }, env };
      })
    : [{ code: SRC_CODE, env: {} }];
  const redis = await BenchRedis.start();
  process.stdout.write(`Redis ${redis.version}, ${n} tasks / jobs, ${reps} rep(s)\n`);
  try {
    for (let rep = 0; rep < reps; rep += 1) {
      for (const { code, env } of codes) print(await measureOurs(redis, code, n, fetchBatch, env), n);
      print(await measureBull(redis, n), n);
    }
  } finally {
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
    process.exit(1);
  },
);
