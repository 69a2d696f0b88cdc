/**
 * The measurements themselves, each returning raw counts and times (no tables): bench/run.ts repeats
 * and tabulates them; test/bench-smoke.e2e-spec.ts runs them on tiny sizes and checks the counts.
 */
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import http from 'node:http';
import { BULL_JOB_OPTS, bullKey } from './bull';
import { DrainTarget, flushTarget, mastersCpuMs } from './cluster';
import { BenchContext } from './context';
import { newTask, newTasks, OurQueue, PAYLOAD, TASK_TYPE } from './ours';
import { Child, stopAll } from './processes';
import { maxOf, minOf, percentile } from './stats';
import { LoadGenerator, LoadResult } from './load';
import { hrNow, processCpuMs, sleep, waitFor } from './util';

// ---------------------------------------------------------------------------------------------
// 1. Library-level enqueue

export interface RateResult {
  tasks: number;
  ms: number;
  perSec: number;
}

/**
 * `callers` concurrent loops, each awaiting `call()` (which enqueues and returns how many tasks it
 * stored) until `durationMs` has passed (and at most `maxCalls` calls in all).
 */
export async function closedLoop(call: () => Promise<number>, callers: number, durationMs: number, maxCalls = 5_000_000): Promise<RateResult> {
  let tasks = 0;
  let calls = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end && calls < maxCalls) {
        calls += 1;
        const stored = await call();
        tasks += stored;
      }
    }),
  );
  const ms = performance.now() - start;
  return { tasks, ms, perSec: (tasks / ms) * 1000 };
}

export function ourEnqueueCall(q: OurQueue, batch: number): () => Promise<number> {
  return batch === 1
    ? () => q.enqueue([newTask()]).then(() => 1)
    : () => q.enqueue(newTasks(batch)).then(() => batch);
}

export function bullEnqueueCall(queue: Queue, batch: number): () => Promise<number> {
  if (batch === 1) return () => queue.add(TASK_TYPE, { payload: PAYLOAD }, BULL_JOB_OPTS).then(() => 1);
  return () =>
    queue
      .addBulk(Array.from({ length: batch }, () => ({ name: TASK_TYPE, data: { payload: PAYLOAD }, opts: BULL_JOB_OPTS })))
      .then(() => batch);
}

// ---------------------------------------------------------------------------------------------
// 2. Drain

/** Queues `n` tasks of ours, 1000 per script call; returns their ids. */
export async function fillOurs(q: OurQueue, n: number, type = TASK_TYPE): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < n; ) {
    // Ids from the measured code's own generator, as POST /tasks gives them (22 characters, not a
    // 36-character UUID): the ids are part of every key and index entry, so they count in memory.
    const batch = q.newTasks(Math.min(1000, n - done), 'default');
    if (type !== TASK_TYPE) for (const t of batch) t.type = type;
    await q.enqueue(batch);
    for (const t of batch) ids.push(t.id);
    done += batch.length;
  }
  return ids;
}

/** Queues `n` BullMQ jobs, 1000 per addBulk; returns their ids. */
export async function fillBull(queue: Queue, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < n; ) {
    const size = Math.min(1000, n - done);
    const jobs = await queue.addBulk(
      Array.from({ length: size }, () => ({ name: TASK_TYPE, data: { payload: PAYLOAD }, opts: BULL_JOB_OPTS })),
    );
    for (const j of jobs) ids.push(j.id as string);
    done += size;
  }
  return ids;
}

export interface DrainResult extends RateResult {
  completed: number;
  failed: number;
  /** An inconsistency found in Redis after the drain (e.g. an index that disagrees with the hashes). */
  problem?: string;
  /** Redis used_memory per task once queued, and once completed (bytes). */
  pendingBytes: number;
  completedBytes: number;
  /** Of which the task's own hash (MEMORY USAGE, averaged over a sample of tasks). */
  pendingHashBytes: number;
  completedHashBytes: number;
  /** CPU time per task (µs) of the worker process(es) and of Redis, over the tasks that finished while sampled. */
  workerCpuUsPerTask: number;
  redisCpuUsPerTask: number;
}

/** CPU time (ms) used so far by these child processes together. */
export function childrenCpuMs(children: Child[]): number {
  return children.reduce((sum, c) => sum + processCpuMs(c.pid), 0);
}

/** When each task started and finished (epoch ms, NaN when absent), and how the tasks ended. */
export interface TaskTimes {
  start: number[];
  end: number[];
  completed: number;
  failed: number;
  problem?: string;
}

interface DrainSide {
  fill(n: number): Promise<string[]>;
  /** The hash key of a task / job. */
  hashKey(id: string): string;
  /** Starts worker process number `index` (0-based); resolves when it is ready. */
  spawn(index: number): Promise<Child>;
  finishedCount(): Promise<number>;
  /** The tasks' own timestamps and final states, read from Redis. */
  times(ids: string[]): Promise<TaskTimes>;
}

interface CpuSample {
  t: number;
  workers: number;
  redis: number;
}

async function drain(ctx: BenchContext, side: DrainSide, n: number, processes: number): Promise<DrainResult> {
  const { redis } = ctx;
  await redis.flush();
  const base = await redis.usedMemory();
  const ids = await side.fill(n);
  const afterFill = await redis.usedMemory();
  const sampleIds = Array.from({ length: Math.min(100, n) }, (_, i) => ids[Math.floor((i * n) / Math.min(100, n))]);
  const pendingHashBytes = await hashBytes(redis.admin, sampleIds.map(side.hashKey));
  // BENCH_COMMANDSTATS=1: where Redis' time of the drain went, by command (commands run by scripts
  // are counted under their own names too), printed to stderr.
  const commandStats = Boolean(process.env.BENCH_COMMANDSTATS);
  if (commandStats) await redis.admin.config('RESETSTAT');
  // Workers start on a full queue; the time counted is from the first task started to the last one
  // finished (read from Redis), so process boot is not part of it.
  const workers = await Promise.all(Array.from({ length: processes }, (_, i) => side.spawn(i)));
  // CPU of the workers and of Redis, read at 'ready' and once all are finished; the CPU per task is
  // taken over the tasks that finished between the two readings (boot is not counted, and neither is
  // the stop).
  const samples: CpuSample[] = [];
  const sample = async () => {
    const t = Date.now();
    samples.push({ t, workers: childrenCpuMs(workers), redis: await redis.cpuMs() });
  };
  try {
    await sample();
    await untilFinished(() => side.finishedCount(), n, sample);
  } finally {
    await stopAll(workers);
  }
  if (commandStats) printCommandStats(await redis.admin.info('commandstats'), n);
  const times = await side.times(ids);
  const afterDrain = await redis.usedMemory();
  const completedHashBytes = await hashBytes(redis.admin, sampleIds.map(side.hashKey));
  const starts = times.start.filter(Number.isFinite);
  const ends = times.end.filter(Number.isFinite);
  const start = minOf(starts);
  const end = maxOf(ends);
  const ms = end - start;
  const missing = starts.length < n || ends.length < n ? `${n - starts.length} tasks without a start time, ${n - ends.length} without a finish time` : undefined;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const inWindow = times.end.filter((e) => e > first.t && e <= last.t).length;
  return {
    tasks: n,
    ms,
    perSec: ms > 0 ? (n / ms) * 1000 : NaN,
    completed: times.completed,
    failed: times.failed,
    problem: [times.problem, missing].filter(Boolean).join('; ') || undefined,
    pendingBytes: (afterFill - base) / n,
    completedBytes: (afterDrain - base) / n,
    pendingHashBytes,
    completedHashBytes,
    workerCpuUsPerTask: inWindow > 0 ? ((last.workers - first.workers) * 1000) / inWindow : NaN,
    redisCpuUsPerTask: inWindow > 0 ? ((last.redis - first.redis) * 1000) / inWindow : NaN,
  };
}

/** INFO commandstats as a table: calls and µs per task, busiest first. */
function printCommandStats(info: string, tasks: number): void {
  const rows = [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].map((m) => ({ name: m[1], calls: Number(m[2]), usec: Number(m[3]) }));
  rows.sort((a, b) => b.usec - a.usec);
  const total = rows.filter((r) => !['evalsha', 'eval', 'fcall'].includes(r.name)).reduce((a, r) => a + r.usec, 0);
  process.stderr.write(
    `commandstats over ${tasks} tasks (per task; a script's commands count under their own names and inside evalsha; ${(total / tasks).toFixed(2)} µs per task in commands, the rest of evalsha is the Lua interpreter):\n`,
  );
  for (const r of rows) {
    process.stderr.write(`  ${r.name.padEnd(22)} calls/task ${(r.calls / tasks).toFixed(3).padStart(7)}  µs/task ${(r.usec / tasks).toFixed(2).padStart(7)}  µs/call ${(r.usec / Math.max(1, r.calls)).toFixed(2)}\n`);
  }
}

/** Average MEMORY USAGE (bytes) of the given keys. */
async function hashBytes(redis: Redis, keys: string[]): Promise<number> {
  const pipe = redis.pipeline();
  for (const k of keys) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
  const res = (await pipe.exec()) ?? [];
  const values = res.map(([err, v]) => (err ? NaN : Number(v)));
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** HMGET of fields on many hashes, pipelined in chunks. */
async function hmgetMany(redis: Redis, keys: string[], fields: string[]): Promise<(string | null)[][]> {
  const out: (string | null)[][] = [];
  for (let i = 0; i < keys.length; i += 5000) {
    const pipe = redis.pipeline();
    for (const k of keys.slice(i, i + 5000)) pipe.hmget(k, ...fields);
    const res = (await pipe.exec()) ?? [];
    for (const [err, v] of res) {
      if (err) throw err;
      out.push(v as (string | null)[]);
    }
  }
  return out;
}

const num = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? NaN : Number(v));

/**
 * Our drain: `node main.js` worker process(es) (APP_ROLE=worker). Times are the tasks' own
 * started_at (written when the handler starts, through the batched 'start' settle) and
 * completed_at, decoded by the measured code's parseTaskHash.
 */
/** `env`: more configuration of the worker processes (e.g. COMPACT_COMPLETED_TASKS). */
export function drainOurs(ctx: BenchContext, q: OurQueue, n: number, concurrency: number, processes = 1, env: Record<string, string> = {}): Promise<DrainResult> {
  const k = q.keys;
  const redis = ctx.redis.admin;
  return drain(
    ctx,
    {
      fill: (count) => fillOurs(q, count),
      hashKey: (id) => k.task(id),
      spawn: (index) => ctx.ourWorker(concurrency, index, { REDIS_URL: ctx.redis.url, ...env }),
      finishedCount: async () => (await redis.zcard(k.byStatus('completed'))) + (await redis.zcard(k.byStatus('failed'))),
      times: async (ids) => {
        const tasks = await q.readTasks(ids);
        const completed = tasks.filter((t) => t?.status === 'completed').length;
        const failed = tasks.filter((t) => t?.status === 'failed').length;
        // The listing index must agree with the hashes.
        const indexed = await redis.zcard(k.byStatus('completed'));
        const problem = indexed === completed ? undefined : `index ${k.byStatus('completed')} holds ${indexed} ids, but ${completed} task hashes say completed`;
        return { start: tasks.map((t) => num(t?.startedAt)), end: tasks.map((t) => num(t?.completedAt)), completed, failed, problem };
      },
    },
    n,
    processes,
  );
}

/** BullMQ's drain: bench/procs/bullmq-worker.js process(es); times are the jobs' processedOn and finishedOn. */
export function drainBull(ctx: BenchContext, queue: Queue, n: number, concurrency: number, processes = 1): Promise<DrainResult> {
  const redis = ctx.redis.admin;
  return drain(
    ctx,
    {
      fill: (count) => fillBull(queue, count),
      hashKey: (id) => bullKey(id),
      spawn: () => ctx.bullWorker(concurrency),
      finishedCount: async () => (await redis.zcard(bullKey('completed'))) + (await redis.zcard(bullKey('failed'))),
      times: async (ids) => {
        const rows = await hmgetMany(redis, ids.map((id) => bullKey(id)), ['processedOn', 'finishedOn']);
        return {
          start: rows.map(([s]) => num(s)),
          end: rows.map(([, e]) => num(e)),
          completed: await redis.zcard(bullKey('completed')),
          failed: await redis.zcard(bullKey('failed')),
        };
      },
    },
    n,
    processes,
  );
}

// ---------------------------------------------------------------------------------------------
// 3, 4, 6, 7. HTTP load: a generator in its own process (bench/lib/load.ts)

export type { LoadResult };

export const TASK_BODY = JSON.stringify({ type: TASK_TYPE, payload: PAYLOAD, max_retry: 3 });

export function batchBody(size: number): string {
  return JSON.stringify(Array.from({ length: size }, () => ({ type: TASK_TYPE, payload: PAYLOAD, max_retry: 3 })));
}

// ---------------------------------------------------------------------------------------------
// 5. Pickup latency

/** Enqueues one pickup probe carrying `t` (high-resolution enqueue time, ms); resolves with its id. */
export type ProbeEnqueue = (t: number) => Promise<string>;

export function ourProbe(q: OurQueue): ProbeEnqueue {
  return async (t) => {
    const task = newTask('pickup', t.toFixed(3));
    await q.enqueue([task]);
    return task.id;
  };
}

export function bullProbe(queue: Queue): ProbeEnqueue {
  return async (t) => (await queue.add('pickup', { t }, BULL_JOB_OPTS)).id as string;
}

/** One probe at a time, `gapMs` apart, so every probe finds the workers idle. */
export async function probeIdle(enqueue: ProbeEnqueue, probes: number, gapMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < probes; i += 1) {
    ids.push(await enqueue(hrNow()));
    await sleep(gapMs);
  }
  return ids;
}

/**
 * Open loop: probes at `perSec` for `durationMs`, each enqueued independently (not in bulk); `sent` gets the rate the enqueues reached (probes
 * divided by the time until the last enqueue call answered), which falls short of `perSec` when the
 * enqueue side cannot keep up.
 */
export async function probeAtRate(enqueue: ProbeEnqueue, perSec: number, durationMs: number, sent?: (perSec: number) => void): Promise<string[]> {
  const pending: Promise<string>[] = [];
  const start = performance.now();
  const total = Math.floor((perSec * durationMs) / 1000);
  while (pending.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * perSec) / 1000));
    while (pending.length < due) pending.push(enqueue(hrNow()));
    if (performance.now() - start > durationMs * 3) throw new Error('probe generator fell behind');
    await sleep(1);
  }
  const ids = await Promise.all(pending);
  sent?.((total * 1000) / (performance.now() - start));
  return ids;
}

export interface LatencyResult {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ProbeLatencyResult extends LatencyResult {
  /** performance.now() when every probe had finished (polled every 10 ms). */
  finishedAt: number;
}

/**
 * Waits until every probe has run, then reads the latencies the handlers returned, from the first of
 * `fields` a hash has (ours: `o` of a compact completed task, `result` of the full layout).
 */
export async function readLatencies(
  redis: Redis,
  keys: string[],
  fields: string[],
  finished: () => Promise<number>,
  expected: number,
): Promise<ProbeLatencyResult> {
  await waitFor(async () => ((await finished()) >= expected ? true : undefined), `${expected} probes finished`, 60_000, 10);
  const finishedAt = performance.now();
  const values: number[] = [];
  for (let i = 0; i < keys.length; i += 5000) {
    const pipe = redis.pipeline();
    for (const k of keys.slice(i, i + 5000)) pipe.hmget(k, ...fields);
    for (const [err, got] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      const v = (got as (string | null)[]).find((x) => x !== null);
      // BullMQ stores the return value as JSON ("\"0.512\""); ours stores the string.
      const text = String(v);
      values.push(Number(text.startsWith('"') ? JSON.parse(text) : text));
    }
  }
  const bad = values.filter((v) => !Number.isFinite(v)).length;
  if (bad > 0) throw new Error(`${bad} probes have no latency result`);
  return { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: maxOf(values), finishedAt };
}

// ---------------------------------------------------------------------------------------------
// 8. Idle cost

export interface IdleResult {
  /** Commands per second the process sent (a script call counts once), from MONITOR. */
  perSec: number;
  byCommand: Record<string, number>;
  /** Commands per second Redis executed, including those inside scripts, from INFO commandstats. */
  executedPerSec: number;
  executedByCommand: Record<string, number>;
}

const perSecond = (counts: Record<string, number>, seconds: number) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / seconds]));

/**
 * Redis commands per second of an idle process: what it sends (MONITOR, commands run by scripts left
 * out) and what Redis executes for it (INFO commandstats deltas, which count inside scripts too).
 * The benchmark's own CONFIG / INFO / MONITOR are left out of both.
 */
export async function idleCost(ctx: BenchContext, spawn: () => Promise<Child>, settleMs: number, windowMs: number): Promise<IdleResult> {
  const { redis } = ctx;
  await redis.flush();
  // MONITOR starts while Redis is quiet: ioredis mistakes monitor lines that arrive together with the
  // MONITOR reply for command replies (a 'Command queue state error', ignored here).
  const monitor = await redis.admin.monitor();
  monitor.on('error', () => undefined);
  const child = await spawn();
  try {
    await sleep(settleMs);
    const sent: Record<string, number> = {};
    let counting = false;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const cmd = String(args[0] ?? '').toLowerCase();
      if (!counting || source === 'lua' || cmd === 'config' || cmd === 'info') return;
      sent[cmd] = (sent[cmd] ?? 0) + 1;
    });
    await redis.resetStats();
    counting = true;
    const start = performance.now();
    await sleep(windowMs);
    counting = false;
    const stats = await redis.commandStats();
    const seconds = (performance.now() - start) / 1000;
    for (const k of Object.keys(stats)) if (k === 'info' || k.startsWith('config') || k === 'monitor') delete stats[k];
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    return {
      perSec: sum(sent) / seconds,
      byCommand: perSecond(sent, seconds),
      executedPerSec: sum(stats) / seconds,
      executedByCommand: perSecond(stats, seconds),
    };
  } finally {
    monitor.disconnect();
    await stopAll([child]);
  }
}

// ---------------------------------------------------------------------------------------------
// 6. End to end

export interface EndToEndResult extends RateResult {
  submitRps: number;
  errors: number;
  non2xx: number;
}

/**
 * Submits `n` tasks over HTTP (POST /tasks, `connections` at once, autocannon in its own process) and
 * waits until all have finished.
 */
export async function endToEnd(load: LoadGenerator, url: string, n: number, connections: number, finished: () => Promise<number>): Promise<EndToEndResult> {
  const start = performance.now();
  let submitted: LoadResult | undefined;
  const submitting = load.run({ url: `${url}/tasks`, method: 'POST', body: TASK_BODY, connections, amount: n, seconds: 600 }).then(
    (r) => (submitted = r),
  );
  // Completion is polled while submitting; when some submissions failed, all accepted ones must finish.
  await waitFor(
    async () => {
      const f = await finished();
      return f >= n || (submitted && f >= submitted.ok) ? true : undefined;
    },
    `${n} tasks finished`,
    60_000 + n * 2,
    5,
  );
  const doneAt = Date.now();
  const r = await submitting;
  // From the generator's first request (its process start-up is not counted) to all finished.
  const ms = r.startedAt !== undefined ? doneAt - r.startedAt : performance.now() - start;
  return { tasks: r.ok, ms, perSec: (r.ok / ms) * 1000, submitRps: r.rps, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

// ---------------------------------------------------------------------------------------------
// 7. Scale

/** Adds tasks of ours until `target` are stored, keeping a uniform sample of up to 1000 ids. */
export async function fillTo(q: OurQueue, stored: number, target: number, sample: string[]): Promise<number> {
  let count = stored;
  while (count < target) {
    const batch = newTasks(Math.min(1000, target - count));
    await q.enqueue(batch);
    for (const t of batch) {
      count += 1;
      if (sample.length < 1000) sample.push(t.id);
      else {
        const j = Math.floor(Math.random() * count);
        if (j < 1000) sample[j] = t.id;
      }
    }
  }
  return count;
}

/**
 * Unloaded latency: `count` GET requests one after another over one keep-alive connection, timed
 * with the high-resolution clock (autocannon reports whole milliseconds). Fails on a non-2xx answer.
 */
export async function sequentialLatency(baseUrl: string, paths: string[], count: number): Promise<LatencyResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const values: number[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const path = paths[i % paths.length];
      const t = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(`${baseUrl}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        });
        req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
        req.on('error', reject);
      });
      values.push(performance.now() - t);
      if (status < 200 || status >= 300) throw new Error(`GET ${path} answered ${status}`);
    }
  } finally {
    agent.destroy();
  }
  return { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: maxOf(values) };
}

// ---------------------------------------------------------------------------------------------
// 9. Worker processes and queues, on a Redis Cluster and on one redis-server

export interface SpreadDrainResult extends RateResult {
  completed: number;
  failed: number;
  problem?: string;
  /** Tasks completed per queue. */
  completedByQueue: Record<string, number>;
  /** CPU time per task (µs) of the worker processes together, over the tasks that finished while sampled. */
  workerCpuUsPerTask: number;
  /** CPU time per task (µs) of each master (INFO cpu), in the order of `target.masters`. */
  redisCpuUsPerTask: number[];
}

/**
 * Drains `n` tasks spread evenly over `queues` with `processes` worker processes of ours (`node
 * main.js`, APP_ROLE=worker, WORKER_COUNT=concurrency, serving every queue: WORKER_QUEUES unset) on
 * `target`. The queues are paused while the tasks are queued and the processes start, and resumed
 * once every process is ready, so every process drains from the first task on (a process that booted
 * sooner does not start alone). Time: first started_at to last completed_at, from the tasks' hashes.
 * CPU: /proc of the workers and INFO cpu of every master, read after every process is ready (before
 * the resume) and once all are finished, divided by the tasks finished in between.
 */
export async function drainSpread(
  ctx: BenchContext,
  target: DrainTarget,
  q: OurQueue,
  n: number,
  queues: string[],
  concurrency: number,
  processes: number,
): Promise<SpreadDrainResult> {
  await flushTarget(target);
  for (const queue of queues) await q.repo.pause(queue);
  const ids: string[] = [];
  const share = (i: number) => Math.floor(n / queues.length) + (i < n % queues.length ? 1 : 0);
  for (const [i, queue] of queues.entries()) {
    for (let done = 0; done < share(i); ) {
      const batch = q.newTasks(Math.min(1000, share(i) - done), queue);
      await q.enqueue(batch);
      for (const t of batch) ids.push(t.id);
      done += batch.length;
    }
  }
  const workers: Child[] = [];
  const doneKeys = queues.flatMap((queue) => [q.keysOf(queue).byStatus('completed'), q.keysOf(queue).byStatus('failed')]);
  const finishedCount = async () => (await Promise.all(doneKeys.map((k) => q.client.zcard(k)))).reduce((a, b) => a + b, 0);
  const samples: { t: number; workers: number; redis: number[] }[] = [];
  const sample = async () => {
    const t = Date.now();
    samples.push({ t, workers: childrenCpuMs(workers), redis: await mastersCpuMs(target) });
  };
  try {
    workers.push(...(await Promise.all(Array.from({ length: processes }, (_, i) => ctx.ourWorker(concurrency, i, target.env)))));
    await sample();
    for (const queue of queues) await q.repo.resume(queue);
    await untilFinished(finishedCount, n, sample);
  } finally {
    await stopAll(workers);
  }
  const tasks = await q.readTasks(ids);
  const completedByQueue: Record<string, number> = Object.fromEntries(queues.map((queue) => [queue, 0]));
  let completed = 0;
  let failed = 0;
  let start = Infinity;
  let end = -Infinity;
  let withTimes = 0;
  for (const t of tasks) {
    if (t?.status === 'completed') {
      completed += 1;
      completedByQueue[t.queue] = (completedByQueue[t.queue] ?? 0) + 1;
    }
    if (t?.status === 'failed') failed += 1;
    const s = num(t?.startedAt);
    const e = num(t?.completedAt);
    if (Number.isFinite(s) && Number.isFinite(e)) withTimes += 1;
    if (Number.isFinite(s)) start = Math.min(start, s);
    if (Number.isFinite(e)) end = Math.max(end, e);
  }
  const problems: string[] = [];
  if (withTimes < n) problems.push(`${n - withTimes} tasks without a start or finish time`);
  for (const queue of queues) {
    const indexed = await q.client.zcard(q.keysOf(queue).byStatus('completed'));
    if (indexed !== completedByQueue[queue]) problems.push(`queue ${queue}: the completed index holds ${indexed} ids, the hashes say ${completedByQueue[queue]}`);
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  const inWindow = tasks.filter((t) => {
    const e = num(t?.completedAt);
    return e > first.t && e <= last.t;
  }).length;
  const ms = end - start;
  return {
    tasks: n,
    ms,
    perSec: ms > 0 ? (n / ms) * 1000 : NaN,
    completed,
    failed,
    problem: problems.join('; ') || undefined,
    completedByQueue,
    workerCpuUsPerTask: inWindow > 0 ? ((last.workers - first.workers) * 1000) / inWindow : NaN,
    redisCpuUsPerTask: first.redis.map((r0, i) => (inWindow > 0 ? ((last.redis[i] - r0) * 1000) / inWindow : NaN)),
  };
}

/**
 * Waits until `finishedCount()` reaches `n`, taking the closing CPU `sample` as soon as it does. Polled
 * only to notice the end (the figures come from the tasks' timestamps): rarely enough to cost nothing.
 */
async function untilFinished(finishedCount: () => Promise<number>, n: number, sample: () => Promise<void>): Promise<void> {
  await waitFor(
    async () => {
      if ((await finishedCount()) < n) return undefined;
      await sample();
      return true;
    },
    `${n} tasks finished`,
    30_000 + n * 2,
    25,
  );
}
