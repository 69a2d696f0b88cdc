/**
 * The sections of `npm run bench`: each repeats its measurements (ours and the reference
 * alternate: even repetitions run ours first, odd ones the reference first) and returns its tables.
 */
import { Queue } from 'bullmq';
import { bullKey, openBullQueue } from './bull';
import { BenchCluster, DrainTarget, standaloneTarget } from './cluster';
import { BenchContext, HttpApp, MemorySamples } from './context';
import {
  batchBody,
  bullEnqueueCall,
  bullProbe,
  closedLoop,
  drainBull,
  drainOurs,
  drainSpread,
  endToEnd,
  fillTo,
  idleCost,
  LatencyResult,
  ourEnqueueCall,
  ourProbe,
  ProbeEnqueue,
  probeAtRate,
  probeIdle,
  readLatencies,
  sequentialLatency,
  TASK_BODY,
} from './measure';
import { cpuCount } from './environment';
import { LoadResult } from './load';
import { OurQueue, QUEUE_PREFIX } from './ours';
import { Child, stopAll } from './processes';
import { medianRatio, Table, verdict } from './report';
import { fmtNumber, median, ratio, Sample } from './stats';
import { processCpuMs, sleep } from './util';
import { roundTripCalls, sequentialRate } from './round-trip';

export interface Clients {
  ours: OurQueue;
  bull: Queue;
}

export async function openClients(ctx: BenchContext): Promise<Clients> {
  const ours = await OurQueue.open(ctx.redis.url, ctx.code);
  const bull = openBullQueue(ctx.redis.host, ctx.redis.port);
  await bull.waitUntilReady();
  return { ours, bull };
}

export async function closeClients(c: Clients): Promise<void> {
  await c.ours.close();
  await c.bull.close();
}

/** Runs `a` and `b` in alternating order `reps` times (even repetitions `a` first). */
async function alternate(reps: number, a: (rep: number) => Promise<void>, b: (rep: number) => Promise<void>): Promise<void> {
  await rotate(reps, [a, b]);
}

/** Runs every side once per repetition, `reps` times; repetition r starts with side r (mod the number of sides). */
async function rotate(reps: number, sides: ((rep: number) => Promise<void>)[]): Promise<void> {
  for (let rep = 0; rep < reps; rep += 1) {
    for (let k = 0; k < sides.length; k += 1) await sides[(rep + k) % sides.length](rep);
  }
}

const atLeast = (s: Sample, ref: Sample, factor: number) => median(s.values) >= factor * median(ref.values);

// ---------------------------------------------------------------------------------------------

export async function enqueueSection(ctx: BenchContext, clients: Clients): Promise<Table[]> {
  const { sizes, redis } = ctx;
  const table = new Table('1. Enqueue, library level (tasks/s)', ['case', 'ours', 'BullMQ', 'ours/BullMQ', 'target', 'met']);
  const cpuTable = new Table('1b. Enqueue: CPU time per task (µs), client (the measuring process) and Redis', [
    'case', 'ours client', 'BullMQ client', 'ours/BullMQ', 'ours Redis', 'BullMQ Redis', 'ours/BullMQ',
  ]);
  /** Runs one closed loop and measures the CPU of this process (the client library) and of Redis. */
  const measured = async (call: () => Promise<number>, callers: number) => {
    const c0 = process.cpuUsage();
    const r0 = await redis.cpuMs();
    const r = await closedLoop(call, callers, sizes.enqueueMs);
    const c = process.cpuUsage(c0);
    const redisMs = (await redis.cpuMs()) - r0;
    return { ...r, clientUs: (c.user + c.system) / r.tasks, redisUs: (redisMs * 1000) / r.tasks };
  };
  const cases = [
    { name: 'QueueRepository.enqueue (1 task) vs Queue.add, 1 caller', callers: 1, batch: 1, target: 2 },
    { name: 'QueueRepository.enqueue (1 task) vs Queue.add, 50 callers', callers: 50, batch: 1, target: 2 },
    { name: 'enqueue 100 tasks/call vs addBulk(100), 1 caller', callers: 1, batch: 100, target: 1.5 },
    { name: 'enqueue 1000 tasks/call vs addBulk(1000), 1 caller', callers: 1, batch: 1000, target: 1.5 },
  ];
  // The lone caller's round-trip bound, measured beside its enqueue runs (see round-trip.ts).
  const rttClient = redis.client('bench-round-trip');
  const rtt = roundTripCalls(rttClient);
  const bound = { ping: new Sample('calls/s'), evalsha: new Sample('calls/s') };
  const boundSides = [
    async () => void bound.ping.add(await sequentialRate(rtt.ping, sizes.enqueueMs)),
    async () => void bound.evalsha.add(await sequentialRate(rtt.evalsha, sizes.enqueueMs)),
  ];
  let lone: { ours: Sample; bull: Sample } | undefined;
  // Warm-up (JIT, script cache), not recorded.
  await closedLoop(ourEnqueueCall(clients.ours, 1), 50, 300);
  await closedLoop(bullEnqueueCall(clients.bull, 1), 50, 300);
  await closedLoop(rtt.evalsha, 1, 300);
  await redis.flush();
  for (const c of cases) {
    const ours = new Sample('tasks/s');
    const bull = new Sample('tasks/s');
    const cpu = { oursClient: new Sample('µs', 1), bullClient: new Sample('µs', 1), oursRedis: new Sample('µs', 1), bullRedis: new Sample('µs', 1) };
    const loneCase = c.callers === 1 && c.batch === 1;
    if (loneCase) lone = { ours, bull };
    await rotate(sizes.enqueueReps, [
      ...(loneCase ? boundSides : []),
      async (rep) => {
        await redis.flush();
        const r = await measured(ourEnqueueCall(clients.ours, c.batch), c.callers);
        ours.add(r.perSec);
        cpu.oursClient.add(r.clientUs);
        cpu.oursRedis.add(r.redisUs);
        ctx.log(`[enqueue] ${c.name} rep ${rep + 1} ours: ${fmtNumber(r.perSec)} tasks/s (${r.tasks} tasks)`);
      },
      async (rep) => {
        await redis.flush();
        const r = await measured(bullEnqueueCall(clients.bull, c.batch), c.callers);
        bull.add(r.perSec);
        cpu.bullClient.add(r.clientUs);
        cpu.bullRedis.add(r.redisUs);
        ctx.log(`[enqueue] ${c.name} rep ${rep + 1} BullMQ: ${fmtNumber(r.perSec)} jobs/s (${r.tasks} jobs)`);
      },
    ]);
    table.row(c.name, ours.format(), bull.format(), medianRatio(ours, bull), `≥ ${c.target}×`, verdict(atLeast(ours, bull, c.target)));
    cpuTable.row(c.name, cpu.oursClient.format(), cpu.bullClient.format(), medianRatio(cpu.oursClient, cpu.bullClient),
      cpu.oursRedis.format(), cpu.bullRedis.format(), medianRatio(cpu.oursRedis, cpu.bullRedis));
  }
  cpuTable.note('Same runs as table 1. Client: process.cpuUsage() of the measuring process (compiled, plain node: the enqueue loops and the client library: ioredis, our repository / BullMQ\'s Queue). Redis: INFO cpu. Lower is better; with one caller both sides mostly pay for a round trip per call (syscalls and wake-ups).');
  rttClient.disconnect();
  const boundTable = new Table('1c. Enqueue, 1 caller: the round-trip bound (calls/s, one caller awaiting each call)', ['', 'calls/s']);
  boundTable.row('PING (ioredis)', bound.ping.format());
  boundTable.row('EVALSHA of `return 1` (ioredis)', bound.evalsha.format());
  if (lone) {
    boundTable.row('QueueRepository.enqueue (1 task)', lone.ours.format());
    boundTable.row('Queue.add', lone.bull.format());
    boundTable.row('2 × Queue.add (the target)', fmtNumber(2 * lone.bull.median));
  }
  boundTable.note(`Same run and Redis as table 1, ${sizes.enqueueMs} ms per run, ${sizes.enqueueReps} runs each, rotated with the 1-caller runs of table 1. A lone caller that awaits each call makes at most one call per round trip: the EVALSHA row is the most any single-task enqueue through a script can reach here, PING the most any command can.`);
  await redis.flush();
  table.note(`${sizes.enqueueMs} ms per run, ${sizes.enqueueReps} runs each, empty Redis (FLUSHALL) before each run; callers are async loops in the measuring process (the benchmark compiled, plain node; see the header).`);
  table.note('Tasks: type "echo", payload "hello world", max_retry 3; BullMQ jobs carry the same promise: attempts 4, exponential backoff from 1 s.');
  return [table, cpuTable, boundTable];
}

// ---------------------------------------------------------------------------------------------

export async function drainSection(ctx: BenchContext, clients: Clients): Promise<Table[]> {
  const { sizes } = ctx;
  const n = sizes.drainTasks;
  const table = new Table(`2. Drain ${fmtNumber(n)} queued no-op tasks (tasks/s)`, ['case', 'ours', 'BullMQ', 'ours/BullMQ', 'target', 'met']);
  const cases: { name: string; c: number; processes: number; target?: number }[] = sizes.drainConcurrency.map((c) => ({
    name: `1 worker process, concurrency ${c}`,
    c,
    processes: 1,
    target: c === 1 ? 2 : c === 50 ? 3 : undefined,
  }));
  cases.push({ name: '2 worker processes, concurrency 50 each', c: 50, processes: 2 });
  const cpuTable = new Table('2b. Drain: CPU time per task (µs), worker process(es) and Redis', [
    'case', 'ours worker', 'BullMQ worker', 'ours/BullMQ', 'ours Redis', 'BullMQ Redis', 'ours/BullMQ',
  ]);
  const mem: { ours: MemorySamples; bull: MemorySamples } = {
    ours: { pending: [], completed: [], pendingHash: [], completedHash: [] },
    bull: { pending: [], completed: [], pendingHash: [], completedHash: [] },
  };
  const problems: string[] = [];
  for (const c of cases) {
    const ours = new Sample('tasks/s');
    const bull = new Sample('tasks/s');
    const cpu = {
      oursWorker: new Sample('µs', 1), bullWorker: new Sample('µs', 1), oursRedis: new Sample('µs', 1), bullRedis: new Sample('µs', 1),
    };
    const headline = c.c === 50 && c.processes === 1;
    const sides = [
      async (rep: number) => {
        const r = await drainOurs(ctx, clients.ours, n, c.c, c.processes);
        ours.add(r.perSec);
        cpu.oursWorker.add(r.workerCpuUsPerTask);
        cpu.oursRedis.add(r.redisCpuUsPerTask);
        if (r.completed !== n) problems.push(`ours, ${c.name}: ${r.completed} completed, ${r.failed} failed of ${n}`);
        if (r.problem) problems.push(`ours, ${c.name}: ${r.problem}`);
        if (headline) {
          mem.ours.pending.push(r.pendingBytes);
          mem.ours.completed.push(r.completedBytes);
          mem.ours.pendingHash.push(r.pendingHashBytes);
          mem.ours.completedHash.push(r.completedHashBytes);
        }
        ctx.log(`[drain] ${c.name} rep ${rep + 1} ours: ${fmtNumber(r.perSec)} tasks/s (${fmtNumber(r.ms)} ms; ${r.workerCpuUsPerTask.toFixed(1)} µs worker, ${r.redisCpuUsPerTask.toFixed(1)} µs Redis per task)`);
      },
      async (rep: number) => {
        const r = await drainBull(ctx, clients.bull, n, c.c, c.processes);
        bull.add(r.perSec);
        cpu.bullWorker.add(r.workerCpuUsPerTask);
        cpu.bullRedis.add(r.redisCpuUsPerTask);
        if (r.completed !== n) problems.push(`BullMQ, ${c.name}: ${r.completed} completed, ${r.failed} failed of ${n}`);
        if (r.problem) problems.push(`BullMQ, ${c.name}: ${r.problem}`);
        if (headline) {
          mem.bull.pending.push(r.pendingBytes);
          mem.bull.completed.push(r.completedBytes);
          mem.bull.pendingHash.push(r.pendingHashBytes);
          mem.bull.completedHash.push(r.completedHashBytes);
        }
        ctx.log(`[drain] ${c.name} rep ${rep + 1} BullMQ: ${fmtNumber(r.perSec)} jobs/s (${fmtNumber(r.ms)} ms; ${r.workerCpuUsPerTask.toFixed(1)} µs worker, ${r.redisCpuUsPerTask.toFixed(1)} µs Redis per job)`);
      },
    ];
    // The headline case also runs bench/crosscheck/bullmq-drain.mjs, a third side in the rotation.
    const check = new Sample('jobs/s');
    if (headline) {
      sides.push(async (rep: number) => {
        await ctx.redis.flush();
        const r = await ctx.runCrosscheck(n, c.c);
        check.add(r.perSec);
        if (r.completed !== n) problems.push(`cross-check: ${r.completed} completed, ${r.failed} failed of ${n}`);
        ctx.log(`[drain] ${c.name} rep ${rep + 1} cross-check script: ${fmtNumber(r.perSec)} jobs/s (${fmtNumber(r.ms)} ms)`);
      });
    }
    // The headline case, judged against a target and cross-checked, gets at least 5 repetitions in
    // a full run: on a shared machine one run of a side can be 30% off the next.
    await rotate(headline && sizes.reps >= 3 ? Math.max(sizes.reps, 5) : sizes.reps, sides);
    if (headline) {
      ctx.capacity.ours = ours.median;
      ctx.capacity.bull = bull.median;
      ctx.crosscheckVerdict = crosscheckVerdict(bull, check);
      table.note(ctx.crosscheckVerdict.text);
    }
    table.row(c.name, ours.format(), bull.format(), medianRatio(ours, bull), c.target ? `≥ ${c.target}×` : '', c.target ? verdict(atLeast(ours, bull, c.target)) : '');
    cpuTable.row(c.name, cpu.oursWorker.format(), cpu.bullWorker.format(), medianRatio(cpu.oursWorker, cpu.bullWorker),
      cpu.oursRedis.format(), cpu.bullRedis.format(), medianRatio(cpu.oursRedis, cpu.bullRedis));
  }
  cpuTable.note(
    "Same runs as table 2. Worker: user+system CPU of the worker process(es) from /proc/<pid>/stat (10 ms ticks); Redis: INFO cpu used_cpu_user+used_cpu_sys. Both are read when the worker process(es) are ready and again once all tasks are finished (polled every 25 ms), and divided by the tasks whose own finish time falls between the two readings, so start-up and shutdown are not counted, on both sides. Redis includes the benchmark's polling (two ZCARD every 25 ms). Lower is better; this is the figure that holds on a busy machine.",
  );
  ctx.memory.ours = mem.ours;
  ctx.memory.bull = mem.bull;
  await ctx.redis.flush();
  table.note(
    "Tasks are queued first (ours: enqueue 1000/call; BullMQ: addBulk 1000), then the worker process(es) start on the full queue; the time counted runs from the first task started to the last one finished, from the tasks' own timestamps in Redis (ours: started_at, written when the handler starts through the batched 'start' settle, and completed_at; BullMQ: processedOn and finishedOn), so process boot is excluded. Rate = N / that time.",
  );
  table.note(
    `Order within each repetition rotates (rep 1: ours first; rep 2: BullMQ first${sizes.reps > 2 ? '; rep 3: the cross-check first' : ''}); ${sizes.reps} repetition(s); medians (min–max). Ours: \`node main.js\` of the measured build with APP_ROLE=worker, WORKER_COUNT=concurrency, LOG_LEVEL=warn (at the default LOG_LEVEL=info our worker writes two log lines per task). BullMQ: bench/procs/bullmq-worker.js, one \`new Worker(...)\` per process, default options; jobs kept when finished (removeOnComplete false, BullMQ's default), like our retention. Exact command lines: see "Processes" at the end.`,
  );
  for (const p of new Set(problems)) table.note(`PROBLEM: ${p}`);
  return [table, cpuTable];
}

/**
 * The harness's BullMQ figure against the bare script's, repetition by repetition: the two run
 * within seconds of each other in every repetition, while the machine's speed drifts between
 * repetitions (a shared machine), so the median of the per-repetition ratios is the comparison,
 * and the medians of each side are shown beside it.
 */
function crosscheckVerdict(harness: Sample, script: Sample): { ok: boolean; text: string } {
  const pairs = harness.values.map((h, i) => h / script.values[i] - 1).filter(Number.isFinite);
  const paired = pairs.length > 0 ? median(pairs) : NaN;
  const ok = Number.isFinite(paired) && Math.abs(paired) <= 0.15;
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
  const figures =
    `harness BullMQ ${harness.format()} jobs/s vs bench/crosscheck/bullmq-drain.mjs ${script.format()} jobs/s; ` +
    `harness / script per repetition ${pairs.map(pct).join(', ')}, median ${Number.isFinite(paired) ? pct(paired) : 'n/a'}` +
    ` (medians of each side: ${pct(harness.median / script.median - 1)})`;
  return { ok, text: `cross-check: ${ok ? 'ok' : 'FAILED'} (${figures}; limit ±15% on the median of the repetitions)` };
}

// ---------------------------------------------------------------------------------------------

interface HttpSamples {
  rps: Sample;
  p50: Sample;
  p99: Sample;
  /** CPU µs per request of the server process and of Redis. */
  appCpu: Sample;
  redisCpu: Sample;
  /** CPU of the load generator process, % of one core. */
  generator: Sample;
  errors: number;
  non2xx: number;
}

function httpSamples(): HttpSamples {
  return {
    rps: new Sample('req/s'), p50: new Sample('ms', 2), p99: new Sample('ms', 2),
    appCpu: new Sample('µs', 0), redisCpu: new Sample('µs', 0), generator: new Sample('%', 0), errors: 0, non2xx: 0,
  };
}

function addHttp(s: HttpSamples, r: LoadResult, cpu?: { app: number; redis: number }): void {
  s.rps.add(r.rps);
  s.p50.add(r.p50);
  s.p99.add(r.p99);
  s.generator.add(r.generatorCores * 100);
  const requests = r.rps * r.seconds;
  if (cpu && requests > 0) {
    s.appCpu.add((cpu.app / requests) * 1000);
    s.redisCpu.add((cpu.redis / requests) * 1000);
  }
  s.errors += r.errors + r.timeouts;
  s.non2xx += r.non2xx;
}

/** Runs `load` and measures the CPU the app process and Redis used meanwhile (ms). */
export async function withCpu<T>(ctx: BenchContext, app: HttpApp, load: () => Promise<T>): Promise<[T, { app: number; redis: number }]> {
  const a0 = processCpuMs(app.child.pid);
  const r0 = await ctx.redis.cpuMs();
  const result = await load();
  const a1 = processCpuMs(app.child.pid);
  const r1 = await ctx.redis.cpuMs();
  return [result, { app: a1 - a0, redis: r1 - r0 }];
}

async function startHttpApps(ctx: BenchContext): Promise<HttpApp[]> {
  return Promise.all([ctx.ourApi(), ctx.referenceApp('bullmq'), ctx.referenceApp('constant')]);
}

/** Which generator ran the section's loads, and what it cost, for a table note. */
function generatorNote(ctx: BenchContext, samples: HttpSamples[]): string {
  const all = new Sample('%', 0);
  for (const s of samples) for (const v of s.generator.values) all.add(v);
  return `Load generator: ${ctx.load.wrkNote || 'autocannon in its own process'}; a separate process on the same ${cpuCount()} cores as the server and Redis, one thread. Its CPU during the runs: ${all.format()} % of one core (median, min–max over all runs of the table), i.e. ${(all.median / cpuCount()).toFixed(0)} % of the machine.`;
}

export async function httpSection(ctx: BenchContext): Promise<Table[]> {
  const { sizes, redis } = ctx;
  const table = new Table('3. HTTP POST /tasks', [
    'case', 'ours', 'Nest+BullMQ', 'Nest constant', 'ours/BullMQ', 'ours/constant', 'target', 'met',
  ]);
  const apps = await startHttpApps(ctx);
  const all: HttpSamples[] = [];
  try {
    for (const app of apps) {
      await ctx.load.run({ url: `${app.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 50, seconds: Math.max(1, Math.min(2, sizes.httpSeconds / 3)) });
    }
    for (const connections of sizes.httpConnections) {
      const s = apps.map(() => httpSamples());
      all.push(...s);
      for (let rep = 0; rep < sizes.httpReps; rep += 1) {
        // Rotate the order: ours first, then BullMQ first, then the constant app first.
        for (let k = 0; k < apps.length; k += 1) {
          const i = (k + rep) % apps.length;
          await redis.flush();
          const [r, cpu] = await withCpu(ctx, apps[i], () =>
            ctx.load.run({ url: `${apps[i].url}/tasks`, method: 'POST', body: TASK_BODY, connections, seconds: sizes.httpSeconds }),
          );
          addHttp(s[i], r, cpu);
          ctx.log(`[http] ${connections} conn rep ${rep + 1} ${apps[i].name}: ${fmtNumber(r.rps)} req/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms errors ${r.errors} non2xx ${r.non2xx}; ${r.generator} CPU ${(r.generatorCores * 100).toFixed(0)} % of a core`);
        }
      }
      const [ours, bull, constant] = s;
      table.row(`req/s, ${connections} connections`, ours.rps.format(), bull.rps.format(), constant.rps.format(),
        medianRatio(ours.rps, bull.rps), medianRatio(ours.rps, constant.rps), '≥ 0.85× constant', verdict(atLeast(ours.rps, constant.rps, 0.85)));
      table.row(`p50 latency ms, ${connections} connections`, ours.p50.format(), bull.p50.format(), constant.p50.format(),
        medianRatio(ours.p50, bull.p50), medianRatio(ours.p50, constant.p50), '', '');
      table.row(`p99 latency ms, ${connections} connections`, ours.p99.format(), bull.p99.format(), constant.p99.format(),
        medianRatio(ours.p99, bull.p99), medianRatio(ours.p99, constant.p99), '', '');
      table.row(`server process CPU µs / request, ${connections} connections`, ours.appCpu.format(), bull.appCpu.format(), constant.appCpu.format(),
        medianRatio(ours.appCpu, bull.appCpu), medianRatio(ours.appCpu, constant.appCpu), '', '');
      table.row(`Redis CPU µs / request, ${connections} connections`, ours.redisCpu.format(), bull.redisCpu.format(), constant.redisCpu.format(),
        medianRatio(ours.redisCpu, bull.redisCpu), '', '', '');
      table.row(`load generator CPU, % of one core, ${connections} connections`, ours.generator.format(), bull.generator.format(), constant.generator.format(), '', '', '', '');
      table.row(`errors + timeouts / non-2xx, ${connections} connections`, `${ours.errors} / ${ours.non2xx}`, `${bull.errors} / ${bull.non2xx}`,
        `${constant.errors} / ${constant.non2xx}`, '', '', '0 / 0', verdict(s.every((x) => x.errors === 0 && x.non2xx === 0)));
      if (constant.rps.median < Math.max(ours.rps.median, bull.rps.median)) {
        table.note(`WARNING (${connections} connections): the constant app, which does least, was not the fastest; the figures are limited by something else than the servers (the machine or the generator).`);
      }
    }
  } finally {
    await stopAll(apps.map((a) => a.child));
    await redis.flush();
  }
  table.note(`${sizes.httpSeconds} s per run, ${sizes.httpReps} run(s) per app and connection count, the three apps in rotating order within each repetition (rep 1 ours first, rep 2 Nest+BullMQ first, rep 3 the constant app first), FLUSHALL before each run; one warm-up run per app first. Medians (min–max). Body: ${TASK_BODY}.`);
  table.note(generatorNote(ctx, all));
  table.note('Ours: `node main.js` of the measured build with APP_ROLE=api, LOG_LEVEL=warn, so no per-request log lines are written (request logging at the default info level would otherwise dominate). Reference apps: bench/reference-app compiled, plain node (NestJS 11 on Express, default JSON body parser, no request logging); Nest+BullMQ calls `queue.add` through @nestjs/bullmq with default options; the constant app is the framework\'s ceiling.');
  table.note('CPU rows: user+system CPU of the server process (/proc, 10 ms ticks) and of Redis (INFO cpu) during each run, divided by the requests answered; they show where the time goes whatever the load generator manages.');
  return [table];
}

// ---------------------------------------------------------------------------------------------

export async function batchSection(ctx: BenchContext): Promise<Table[]> {
  const { sizes, redis } = ctx;
  const size = 1000;
  const body = batchBody(size);
  const table = new Table(`4. HTTP POST /tasks/batch, ${size} tasks per request`, ['case', 'ours', 'Nest+BullMQ (addBulk)', 'ours/BullMQ', 'target', 'met']);
  const apps = await Promise.all([ctx.ourApi(), ctx.referenceApp('bullmq')]);
  const all: HttpSamples[] = [];
  try {
    for (const app of apps) await ctx.load.run({ url: `${app.url}/tasks/batch`, method: 'POST', body, connections: sizes.batchConnections, seconds: Math.min(1, sizes.batchSeconds / 2) });
    const s = apps.map(() => httpSamples());
    all.push(...s);
    const tasks = apps.map(() => new Sample('tasks/s'));
    for (let rep = 0; rep < sizes.reps; rep += 1) {
      for (let k = 0; k < apps.length; k += 1) {
        const i = (k + rep) % apps.length;
        await redis.flush();
        const [r, cpu] = await withCpu(ctx, apps[i], () =>
          ctx.load.run({ url: `${apps[i].url}/tasks/batch`, method: 'POST', body, connections: sizes.batchConnections, seconds: sizes.batchSeconds }),
        );
        addHttp(s[i], r, { app: cpu.app / size, redis: cpu.redis / size });
        tasks[i].add((r.ok / r.seconds) * size);
        ctx.log(`[batch] rep ${rep + 1} ${apps[i].name}: ${fmtNumber((r.ok / r.seconds) * size)} tasks/s, p50 ${r.p50} ms, non2xx ${r.non2xx}`);
      }
    }
    table.row('tasks accepted/s', tasks[0].format(), tasks[1].format(), medianRatio(tasks[0], tasks[1]), '≥ 50,000/s', verdict(tasks[0].median >= 50_000));
    table.row('requests/s', s[0].rps.format(), s[1].rps.format(), medianRatio(s[0].rps, s[1].rps), '', '');
    table.row('server process CPU µs / task', s[0].appCpu.format(), s[1].appCpu.format(), medianRatio(s[0].appCpu, s[1].appCpu), '', '');
    table.row('Redis CPU µs / task', s[0].redisCpu.format(), s[1].redisCpu.format(), medianRatio(s[0].redisCpu, s[1].redisCpu), '', '');
    table.row('p50 / p99 latency ms', `${s[0].p50.format()} / ${s[0].p99.format()}`, `${s[1].p50.format()} / ${s[1].p99.format()}`, '', '', '');
    table.row('errors + timeouts / non-2xx', `${s[0].errors} / ${s[0].non2xx}`, `${s[1].errors} / ${s[1].non2xx}`, '', '0 / 0', verdict(s.every((x) => x.errors === 0 && x.non2xx === 0)));
  } finally {
    await stopAll(apps.map((a) => a.child));
    await redis.flush();
  }
  table.note(`${sizes.batchConnections} connections, ${sizes.batchSeconds} s per run, ${sizes.reps} run(s) per app (alternating), FLUSHALL before each run. Tasks accepted = 2xx responses × ${size} / duration. Medians (min–max).`);
  table.note(generatorNote(ctx, all));
  return [table];
}

// ---------------------------------------------------------------------------------------------

export async function pickupSection(ctx: BenchContext, clients: Clients): Promise<Table[]> {
  const { sizes, redis } = ctx;
  const concurrency = 50;
  const table = new Table(`5. Pickup latency: enqueue to handler start (ms), one worker process at concurrency ${concurrency}`, [
    'case', 'ours', 'BullMQ', 'ours/BullMQ', 'target', 'met',
  ]);
  await redis.flush();
  const k = clients.ours.keys;
  const sides = {
    ours: {
      probe: ourProbe(clients.ours),
      key: (id: string) => k.task(id),
      fields: ['o', 'result'],
      finished: async () => (await redis.admin.zcard(k.byStatus('completed'))) + (await redis.admin.zcard(k.byStatus('failed'))),
    },
    bull: {
      probe: bullProbe(clients.bull),
      key: (id: string) => bullKey(id),
      fields: ['returnvalue'],
      finished: async () => (await redis.admin.zcard(bullKey('completed'))) + (await redis.admin.zcard(bullKey('failed'))),
    },
  };
  type Side = (typeof sides)['ours'];
  const totals = { ours: 0, bull: 0 };
  // `finishedRate`: probes per second from the first enqueue to the last probe finished.
  const run = async (name: 'ours' | 'bull', send: (probe: ProbeEnqueue) => Promise<string[]>): Promise<LatencyResult & { finishedRate: number }> => {
    const side: Side = sides[name];
    const start = performance.now();
    const ids = await send(side.probe);
    totals[name] += ids.length;
    const res = await readLatencies(redis.admin, ids.map(side.key), side.fields, side.finished, totals[name]);
    return { ...res, finishedRate: (ids.length * 1000) / (res.finishedAt - start) };
  };
  const workers: Child[] = [];
  try {
    workers.push(await ctx.ourPickupWorker(concurrency), await ctx.bullWorker(concurrency));
    await sleep(500);
    // Warm-up, not recorded.
    await run('ours', (p) => probeIdle(p, 20, sizes.pickupGapMs));
    await run('bull', (p) => probeIdle(p, 20, sizes.pickupGapMs));

    const idle = { ours: { p50: new Sample('ms', 2), p99: new Sample('ms', 2) }, bull: { p50: new Sample('ms', 2), p99: new Sample('ms', 2) } };
    const loaded = { ours: { p50: new Sample('ms', 2), p99: new Sample('ms', 2) }, bull: { p50: new Sample('ms', 2), p99: new Sample('ms', 2) } };
    // What the 50% load reached: the rate the enqueues were answered at, and the rate all were finished at.
    const reached = { ours: { sent: new Sample('tasks/s'), finished: new Sample('tasks/s') }, bull: { sent: new Sample('tasks/s'), finished: new Sample('tasks/s') } };
    const rate = { ours: Math.round((ctx.capacity.ours ?? 2000) / 2), bull: Math.round((ctx.capacity.bull ?? 2000) / 2) };
    if (!ctx.capacity.ours || !ctx.capacity.bull) table.note('Section 2 did not run at concurrency 50: the "50% load" rows use a fixed 1,000 tasks/s for both.');
    await alternate(
      sizes.reps,
      async (rep) => {
        const r = await run('ours', (p) => probeIdle(p, sizes.pickupProbes, sizes.pickupGapMs));
        idle.ours.p50.add(r.p50);
        idle.ours.p99.add(r.p99);
        const l = await run('ours', (p) => probeAtRate(p, rate.ours, sizes.pickupLoadMs, (r) => reached.ours.sent.add(r)));
        loaded.ours.p50.add(l.p50);
        loaded.ours.p99.add(l.p99);
        reached.ours.finished.add(l.finishedRate);
        ctx.log(`[pickup] rep ${rep + 1} ours: idle p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)}; at ${rate.ours}/s p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} ms`);
      },
      async (rep) => {
        const r = await run('bull', (p) => probeIdle(p, sizes.pickupProbes, sizes.pickupGapMs));
        idle.bull.p50.add(r.p50);
        idle.bull.p99.add(r.p99);
        const l = await run('bull', (p) => probeAtRate(p, rate.bull, sizes.pickupLoadMs, (r) => reached.bull.sent.add(r)));
        loaded.bull.p50.add(l.p50);
        loaded.bull.p99.add(l.p99);
        reached.bull.finished.add(l.finishedRate);
        ctx.log(`[pickup] rep ${rep + 1} BullMQ: idle p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)}; at ${rate.bull}/s p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} ms`);
      },
    );
    table.row('idle workers, p50', idle.ours.p50.format(), idle.bull.p50.format(), medianRatio(idle.ours.p50, idle.bull.p50), '≤ 2 ms', verdict(idle.ours.p50.median <= 2));
    table.row('idle workers, p99', idle.ours.p99.format(), idle.bull.p99.format(), medianRatio(idle.ours.p99, idle.bull.p99), '≤ 10 ms', verdict(idle.ours.p99.median <= 10));
    table.row(`50% load, p50 (ours at ${fmtNumber(rate.ours)}/s, BullMQ at ${fmtNumber(rate.bull)}/s)`, loaded.ours.p50.format(), loaded.bull.p50.format(), medianRatio(loaded.ours.p50, loaded.bull.p50), '', '');
    table.row('50% load, p99', loaded.ours.p99.format(), loaded.bull.p99.format(), medianRatio(loaded.ours.p99, loaded.bull.p99), '', '');
    table.row('50% load, rate the enqueues reached', reached.ours.sent.format(), reached.bull.sent.format(), medianRatio(reached.ours.sent, reached.bull.sent), '', '');
    table.row('50% load, rate all were finished at', reached.ours.finished.format(), reached.bull.finished.format(), medianRatio(reached.ours.finished, reached.bull.finished), '', '');
  } finally {
    await stopAll(workers);
    await redis.flush();
  }
  table.note(`Idle: ${sizes.pickupProbes} probes per run, enqueued one at a time ${sizes.pickupGapMs} ms apart (single-task enqueue / Queue.add from the benchmark process). 50% load: each side at half its own median drain rate at concurrency 50 from section 2, for ${sizes.pickupLoadMs} ms, every task enqueued on its own; every task is a probe. "Rate the enqueues reached": probes divided by the time until the last enqueue call answered (below the target when the enqueue side could not keep up); "rate all were finished at": probes divided by the time from the first enqueue until the last probe finished (below the enqueue rate when the workers fell behind, which is what makes the latency grow).`);
  table.note('Latency = handler start (high-resolution clock in the worker process) minus the time just before the enqueue call, carried in the payload; the handler returns it as its result. Both worker processes run for the whole section; one measures while the other idles. Ours: bench/procs/our-pickup-worker.js = the AppModule with APP_ROLE=worker plus a `pickup` handler, compiled, plain node.');
  return [table];
}

// ---------------------------------------------------------------------------------------------

export async function endToEndSection(ctx: BenchContext, clients: Clients): Promise<Table[]> {
  const { sizes, redis } = ctx;
  const n = sizes.e2eTasks;
  const connections = 50;
  const concurrency = 50;
  const table = new Table(`6. End to end: ${fmtNumber(n)} tasks submitted over HTTP (${connections} connections) until all finished`, [
    'case', 'ours', 'Nest+BullMQ + Worker', 'ours/BullMQ',
  ]);
  const keys = clients.ours.keys;
  const apps = await Promise.all([ctx.ourApi(), ctx.referenceApp('bullmq')]);
  const tasks = { ours: new Sample('tasks/s'), bull: new Sample('tasks/s') };
  const submit = { ours: new Sample('req/s'), bull: new Sample('req/s') };
  const problems: string[] = [];
  try {
    const one = async (name: 'ours' | 'bull', rep: number) => {
      await redis.flush();
      const worker = name === 'ours' ? await ctx.ourWorker(concurrency) : await ctx.bullWorker(concurrency);
      try {
        const finished =
          name === 'ours'
            ? async () => (await redis.admin.zcard(keys.byStatus('completed'))) + (await redis.admin.zcard(keys.byStatus('failed')))
            : async () => (await redis.admin.zcard(bullKey('completed'))) + (await redis.admin.zcard(bullKey('failed')));
        const r = await endToEnd(ctx.load, apps[name === 'ours' ? 0 : 1].url, n, connections, finished);
        tasks[name].add(r.perSec);
        submit[name].add(r.submitRps);
        if (r.errors || r.non2xx || r.tasks !== n) problems.push(`${name}: ${r.tasks} of ${n} accepted, ${r.errors} errors, ${r.non2xx} non-2xx`);
        ctx.log(`[e2e] rep ${rep + 1} ${name}: ${fmtNumber(r.perSec)} tasks/s end to end (submit ${fmtNumber(r.submitRps)} req/s)`);
      } finally {
        await stopAll([worker]);
      }
    };
    await alternate(sizes.reps, (rep) => one('ours', rep), (rep) => one('bull', rep));
    table.row('tasks/s, submit to all finished', tasks.ours.format(), tasks.bull.format(), medianRatio(tasks.ours, tasks.bull));
    table.row('submit rate while workers run, req/s', submit.ours.format(), submit.bull.format(), medianRatio(submit.ours, submit.bull));
  } finally {
    await stopAll(apps.map((a) => a.child));
    await redis.flush();
  }
  table.note(`One API process (ours: main.js with APP_ROLE=api; reference: Nest+BullMQ app) and one worker process at concurrency ${concurrency} (ours: main.js with APP_ROLE=worker), started before the run; requests from autocannon in its own process (a fixed number of requests, which wrk cannot do); time from the generator's first request to the moment all tasks are finished (polled every 5 ms).`);
  for (const p of problems) table.note(`PROBLEM: ${p}`);
  return [table];
}

// ---------------------------------------------------------------------------------------------

export async function scaleSection(ctx: BenchContext, clients: Clients): Promise<Table[]> {
  const { sizes, redis } = ctx;
  const levels = sizes.scaleLevels;
  const latency = new Table('7a. Scale: read latency of our API with N stored (pending) tasks', [
    'case', ...levels.map((l) => `N = ${fmtNumber(l)}`), `${fmtNumber(levels[levels.length - 1])} / ${fmtNumber(levels[0])}`, 'target', 'met',
  ]);
  const memory = new Table('7b. Redis memory per task (bytes, INFO used_memory delta / tasks)', ['case', 'ours', 'BullMQ', 'ours/BullMQ', 'target', 'met']);
  await redis.flush();
  const app = await ctx.ourApi();
  const keys = ['listP50', 'listP99', 'listRps', 'getP50', 'getP99', 'getRps'] as const;
  const perLevel: Record<(typeof keys)[number], Sample[]> = { listP50: [], listP99: [], listRps: [], getP50: [], getP99: [], getRps: [] };
  const pendingBytesAtLevel: number[] = [];
  const sample: string[] = [];
  const connections = 10;
  const sequential = sizes.scaleSeconds >= 2 ? 1000 : 200;
  try {
    const base = await redis.usedMemory();
    let stored = 0;
    for (const level of levels) {
      const t0 = performance.now();
      stored = await fillTo(clients.ours, stored, level, sample);
      pendingBytesAtLevel.push(((await redis.usedMemory()) - base) / stored);
      ctx.log(`[scale] filled to ${fmtNumber(stored)} tasks in ${fmtNumber(performance.now() - t0)} ms`);
      const s = {
        listP50: new Sample('ms', 2), listP99: new Sample('ms', 2), listRps: new Sample('req/s'),
        getP50: new Sample('ms', 2), getP99: new Sample('ms', 2), getRps: new Sample('req/s'),
      };
      const getPaths = sample.map((id) => `/tasks/${id}`);
      await ctx.load.run({ url: `${app.url}/tasks?limit=100`, connections, seconds: Math.min(1, sizes.scaleSeconds) });
      for (let rep = 0; rep < sizes.reps; rep += 1) {
        const listLat = await sequentialLatency(app.url, ['/tasks?limit=100'], sequential);
        const getLat = await sequentialLatency(app.url, getPaths, sequential);
        const list = await ctx.load.run({ url: `${app.url}/tasks?limit=100`, connections, seconds: sizes.scaleSeconds });
        const get = await ctx.load.run({ url: app.url, connections, seconds: sizes.scaleSeconds, paths: getPaths });
        if (list.non2xx || list.errors || get.non2xx || get.errors) {
          throw new Error(`scale: errors at N=${level}: list ${list.errors}/${list.non2xx}, get ${get.errors}/${get.non2xx}`);
        }
        s.listP50.add(listLat.p50);
        s.listP99.add(listLat.p99);
        s.listRps.add(list.rps);
        s.getP50.add(getLat.p50);
        s.getP99.add(getLat.p99);
        s.getRps.add(get.rps);
        ctx.log(
          `[scale] N=${fmtNumber(level)} rep ${rep + 1}: list p50 ${listLat.p50.toFixed(2)} p99 ${listLat.p99.toFixed(2)} ms, ${fmtNumber(list.rps)} req/s; ` +
            `get p50 ${getLat.p50.toFixed(2)} p99 ${getLat.p99.toFixed(2)} ms, ${fmtNumber(get.rps)} req/s`,
        );
      }
      for (const key of keys) perLevel[key].push(s[key]);
    }
  } finally {
    await stopAll([app.child]);
    await redis.flush();
  }
  const flat = (samples: Sample[]) => {
    const first = median(samples[0].values);
    const last = median(samples[samples.length - 1].values);
    return { text: ratio(last, first), ok: last / first <= 1.5 };
  };
  const rows: [string, Sample[], boolean][] = [
    ['GET /tasks?limit=100, p50 ms (sequential)', perLevel.listP50, true],
    ['GET /tasks?limit=100, p99 ms (sequential)', perLevel.listP99, false],
    [`GET /tasks?limit=100, req/s (${connections} connections)`, perLevel.listRps, false],
    ['GET /tasks/{id}, p50 ms (sequential)', perLevel.getP50, true],
    ['GET /tasks/{id}, p99 ms (sequential)', perLevel.getP99, false],
    [`GET /tasks/{id}, req/s (${connections} connections)`, perLevel.getRps, false],
  ];
  for (const [name, samples, judged] of rows) {
    const f = flat(samples);
    latency.row(name, ...samples.map((x) => x.format()), f.text, judged ? '≤ 1.5×' : '', judged ? verdict(f.ok) : '');
  }
  latency.note(
    `Filled with our bulk enqueue (1000 tasks/call) from the benchmark process. Latency: ${sequential} requests one after another on one keep-alive connection (high-resolution timer); throughput: ${ctx.load.wrkNote || 'autocannon in its own process'}, ${connections} connections, ${Math.max(1, Math.round(sizes.scaleSeconds))} s; ${sizes.reps} run(s) per level. GET by id picks from 1000 ids sampled uniformly from all stored tasks. Our API: main.js with APP_ROLE=api, LOG_LEVEL=warn.`,
  );
  latency.note('Flatness is judged on the p50 rows; the p99 of 1000 sequential requests is shown but not judged: it is the 10th-worst request, and on this shared machine it moves by 2-3× between repetitions of the same level (see the min–max).');

  const m = ctx.memory;
  if (m.ours && m.bull && m.ours.pending.length > 0) {
    const s = (v: number[]) => {
      const x = new Sample('bytes');
      for (const y of v) x.add(y);
      return x;
    };
    const op = s(m.ours.pending);
    const bp = s(m.bull.pending);
    const oc = s(m.ours.completed);
    const bc = s(m.bull.completed);
    const oph = s(m.ours.pendingHash);
    const bph = s(m.bull.pendingHash);
    const och = s(m.ours.completedHash);
    const bch = s(m.bull.completedHash);
    memory.row(`per pending task vs per waiting job (${fmtNumber(sizes.drainTasks)} queued)`, op.format(), bp.format(), medianRatio(op, bp), '', '');
    memory.row('  of which the task / job hash (MEMORY USAGE)', oph.format(), bph.format(), medianRatio(oph, bph), '', '');
    memory.row(`per completed task vs per completed job (${fmtNumber(sizes.drainTasks)} finished)`, oc.format(), bc.format(), medianRatio(oc, bc), '≤ 0.75×', verdict(oc.median <= 0.75 * bc.median));
    memory.row('  of which the task / job hash (MEMORY USAGE)', och.format(), bch.format(), medianRatio(och, bch), '', '');
  } else {
    memory.note('No drain runs at concurrency 50 in this run: per-task memory vs BullMQ not measured (section 2 measures it).');
  }
  levels.forEach((level, i) => memory.row(`ours per pending task at N = ${fmtNumber(level)} (section 7a fill)`, fmtNumber(pendingBytesAtLevel[i]), '', '', '', ''));
  memory.note('From the drain runs at concurrency 50 of section 2: used_memory after FLUSHALL, after queueing N, and after all N finished (after the worker processes exited, for ours and BullMQ alike). Ours includes the task hash and every index entry (a pending task: the queue and s:pending; a completed one: s:completed; the rest beside the hash), with ids from our own generator as POST /tasks gives them (22 characters); completed tasks in the default layout (COMPACT_COMPLETED_TASKS=true); "of which the hash" = MEMORY USAGE of 100 task hashes spread over the run, averaged. BullMQ includes its job hash, wait/completed structures, the id counter and its events stream (capped at 10,000 entries by default).');
  return [latency, memory];
}

// ---------------------------------------------------------------------------------------------

export async function idleSection(ctx: BenchContext): Promise<Table[]> {
  const { sizes } = ctx;
  const table = new Table(`8. Idle cost: Redis commands/s issued by one idle worker process (${sizes.idleSeconds} s window)`, [
    'case', 'ours', 'BullMQ', 'ours/BullMQ', 'target', 'met',
  ]);
  const concurrency = 50;
  const ours = new Sample('cmd/s', 2);
  const bull = new Sample('cmd/s', 2);
  const oursExecuted = new Sample('cmd/s', 2);
  const bullExecuted = new Sample('cmd/s', 2);
  const breakdown = { ours: {} as Record<string, number>, bull: {} as Record<string, number>, oursExecuted: {} as Record<string, number>, bullExecuted: {} as Record<string, number> };
  const windowMs = sizes.idleSeconds * 1000;
  await alternate(
    1,
    async () => {
      const r = await idleCost(ctx, () => ctx.ourWorker(concurrency), sizes.idleSettleMs, windowMs);
      ours.add(r.perSec);
      oursExecuted.add(r.executedPerSec);
      breakdown.ours = r.byCommand;
      breakdown.oursExecuted = r.executedByCommand;
      ctx.log(`[idle] ours: ${r.perSec.toFixed(2)} commands/s sent ${JSON.stringify(r.byCommand)}; executed ${JSON.stringify(r.executedByCommand)}`);
    },
    async () => {
      const r = await idleCost(ctx, () => ctx.bullWorker(concurrency), sizes.idleSettleMs, windowMs);
      bull.add(r.perSec);
      bullExecuted.add(r.executedPerSec);
      breakdown.bull = r.byCommand;
      breakdown.bullExecuted = r.executedByCommand;
      ctx.log(`[idle] BullMQ: ${r.perSec.toFixed(2)} commands/s sent ${JSON.stringify(r.byCommand)}; executed ${JSON.stringify(r.executedByCommand)}`);
    },
  );
  table.row(`commands sent by an idle worker process (concurrency ${concurrency}), per s`, ours.format(), bull.format(), medianRatio(ours, bull), '≤ 5/s', verdict(ours.median <= 5));
  table.row('commands Redis executed for it, including inside scripts, per s', oursExecuted.format(), bullExecuted.format(), medianRatio(oursExecuted, bullExecuted), '', '');
  const fmt = (b: Record<string, number>) =>
    Object.entries(b)
      .sort((a, c) => c[1] - a[1])
      .map(([cmd, rate]) => `${cmd} ${rate.toFixed(2)}/s`)
      .join(', ') || 'none';
  table.note(`Ours sent: ${fmt(breakdown.ours)}; executed: ${fmt(breakdown.oursExecuted)}.`);
  table.note(`BullMQ sent: ${fmt(breakdown.bull)}; executed: ${fmt(breakdown.bullExecuted)}.`);
  table.note(`Private Redis with an empty queue and only that process connected (plus the benchmark's admin and MONITOR connections, whose own commands are left out), measured over ${sizes.idleSeconds} s after a ${sizes.idleSettleMs / 1000} s settle. Sent: MONITOR lines from the process's connections (a script call counts once). Executed: INFO commandstats deltas, which also count the commands scripts run.`);
  return [table];
}

// ---------------------------------------------------------------------------------------------

/**
 * 9. Where users outgrow one process: N queued tasks drained by 1, 2, 4 worker processes (serving
 * every queue), from 1 queue or from 3 queues whose hash tags land on different masters, on a private
 * 3-master Redis Cluster and, for reference, on the benchmark's standalone redis-server.
 */
export async function clusterSection(ctx: BenchContext): Promise<Table[]> {
  const { sizes } = ctx;
  const n = sizes.clusterTasks;
  const c = sizes.clusterConcurrency;
  const cores = cpuCount();
  const cluster = await BenchCluster.start(3);
  for (const line of cluster.commandLines) ctx.commandLines.add(line);
  const opened: OurQueue[] = [];
  const table = new Table(`9. Worker processes and queues: drain ${fmtNumber(n)} queued no-op tasks on a 3-master Redis Cluster and on one redis-server`, [
    'Redis', 'queues', 'worker processes', 'tasks/s', '× 1 process', 'worker µs/task', 'Redis µs/task, all masters', 'Redis µs/task per master (M1 / M2 / M3)', `CPU bound on these ${cores} cores`, 'CPU bound, a core per process',
  ]);
  const problems: string[] = [];
  try {
    const onCluster = await OurQueue.open(cluster.env, ctx.code);
    opened.push(onCluster);
    const onStandalone = await OurQueue.open(ctx.redis.url, ctx.code);
    opened.push(onStandalone);
    const placed = await cluster.spreadQueues(3);
    const names = placed.map((p) => p.name);
    const masterOf = (queue: string) => `M${(placed.find((p) => p.name === queue)?.master ?? -1) + 1}`;
    ctx.log(`[cluster] queues: ${placed.map((p) => `${p.name} (slot ${p.slot}) on M${p.master + 1} ${cluster.masters[p.master].name}`).join(', ')}`);
    const standalone = standaloneTarget(ctx.redis);
    const setups = [
      { redis: 'Cluster, 3 masters', target: cluster as DrainTarget, q: onCluster, queues: names.slice(0, 1) },
      { redis: 'Cluster, 3 masters', target: cluster as DrainTarget, q: onCluster, queues: names },
      { redis: 'one redis-server', target: standalone, q: onStandalone, queues: names.slice(0, 1) },
      { redis: 'one redis-server', target: standalone, q: onStandalone, queues: names },
    ];
    interface Samples { rate: Sample; worker: Sample; redis: Sample; perMaster: Sample[] }
    const results = setups.map(() => new Map<number, Samples>());
    for (const processes of sizes.clusterProcesses) {
      await rotate(
        sizes.reps,
        setups.map((s, i) => async (rep: number) => {
          const r = await drainSpread(ctx, s.target, s.q, n, s.queues, c, processes);
          const m = results[i].get(processes) ?? {
            rate: new Sample('tasks/s'), worker: new Sample('µs', 1), redis: new Sample('µs', 1), perMaster: s.target.masters.map(() => new Sample('µs', 1)),
          };
          results[i].set(processes, m);
          m.rate.add(r.perSec);
          m.worker.add(r.workerCpuUsPerTask);
          m.redis.add(r.redisCpuUsPerTask.reduce((a, b) => a + b, 0));
          r.redisCpuUsPerTask.forEach((v, j) => m.perMaster[j].add(v));
          const what = `${s.redis}, ${s.queues.length} queue(s), ${processes} process(es)`;
          if (r.completed !== n) problems.push(`${what}: ${r.completed} completed, ${r.failed} failed of ${n}`);
          if (r.problem) problems.push(`${what}: ${r.problem}`);
          ctx.log(
            `[cluster] ${what} rep ${rep + 1}: ${fmtNumber(r.perSec)} tasks/s (${fmtNumber(r.ms)} ms; ${r.workerCpuUsPerTask.toFixed(1)} µs worker, ` +
              `Redis ${r.redisCpuUsPerTask.map((v) => v.toFixed(1)).join(' / ')} µs per task; completed by queue ${JSON.stringify(r.completedByQueue)})`,
          );
        }),
      );
    }
    setups.forEach((s, i) => {
      const one = results[i].get(sizes.clusterProcesses[0]);
      for (const processes of sizes.clusterProcesses) {
        const m = results[i].get(processes);
        if (!m) continue;
        const ceiling = (cores * 1e6) / (m.worker.median + m.redis.median);
        // Every worker process and every master on a core of its own: the busiest master, or the
        // workers together (µs per task summed over the processes), saturates first.
        const busiest = Math.max(...m.perMaster.map((x) => x.median));
        const redisBound = 1e6 / busiest;
        const workerBound = (processes * 1e6) / m.worker.median;
        const spread = `${fmtNumber(Math.min(redisBound, workerBound))} (${redisBound <= workerBound ? 'Redis' : 'workers'})`;
        table.row(
          s.redis,
          s.queues.length === 1 ? `1 (${s.queues[0]})` : `${s.queues.length} (${s.queues.join(', ')})`,
          String(processes),
          m.rate.format(),
          one && processes !== sizes.clusterProcesses[0] ? medianRatio(m.rate, one.rate) : '',
          m.worker.format(),
          m.redis.format(),
          m.perMaster.length > 1 ? m.perMaster.map((x) => fmtNumber(x.median, 1)).join(' / ') : '(one server)',
          fmtNumber(ceiling),
          spread,
        );
      }
    });
    table.note(
      `Queues: ${placed.map((p) => `${p.name} → slot ${p.slot} (CLUSTER KEYSLOT of ${QUEUE_PREFIX}:{${p.name}}:queue), served by ${masterOf(p.name)} ${cluster.masters[p.master].name}`).join('; ')}. ` +
        "The 1-queue case is `default`, which a worker serving every queue always serves; the 3-queue case adds two named queues picked (from a fixed list, checked at run time) so that each queue's hash tag lands on another master. The other masters' figures in the 1-queue case are the cluster's own upkeep (cluster bus) and the benchmark's polling.",
    );
    table.note(
      `Each case: FLUSHALL on every master, the queues paused, ${fmtNumber(n)} tasks queued (enqueue 1000/call, evenly over the queues), then the worker processes start (\`node main.js\` of the measured build, APP_ROLE=worker, WORKER_COUNT=${c}, LOG_LEVEL=warn, WORKER_QUEUES unset: every queue; REDIS_CLUSTER_NODES=<the 3 masters> on the cluster, REDIS_URL on one server), and once every process is ready the queues are resumed, so all processes drain from the first task on. Time: first started_at to last completed_at from the tasks' own hashes; rate = N / that time.`,
    );
    table.note(
      `CPU: /proc/<pid>/stat of the worker processes (summed) and INFO cpu of every master, read when all processes are ready and once all tasks are finished, divided by the tasks finished in between. Redis includes the benchmark's polling (one ZCARD per queue every 25 ms) and, on the cluster, the cluster bus. Two bounds computed from those medians, not measured: on these cores = ${cores} × 10⁶ / (worker µs + Redis µs per task), the rate if the case had the ${cores} cores to itself and nothing ever waited; a core per process = the lower of 10⁶ / (µs per task of the busiest master) and processes × 10⁶ / (worker µs per task), i.e. what the same per-task costs allow when every worker process and every master has a core (or host) of its own, and which of the two saturates first.`,
    );
    table.note(
      `What this machine can and cannot show: all processes (up to 4 workers, 3 Redis masters or one, the benchmark) share ${cores} cores, so the sum of all processes' CPU per task bounds the rate whatever the number of processes or masters. More worker processes help only as far as one process was waiting rather than computing; a cluster cannot show its point here (each master on its own core or host, so Redis work per master is ~1/3 with 3 spread queues): it shows where the Redis work lands (per-master columns) and what the cluster costs per task (Redis µs all masters vs one server), not the throughput 3 masters on 3 hosts would reach. On a machine with a core per process, expect throughput to grow with processes until one master's CPU per task × rate reaches one core; with 1 queue that is one master, with 3 spread queues three.`,
    );
    table.note(
      `Order within each repetition rotates over the four setups (rep 1 starts with the first, rep 2 with the second, ...); ${sizes.reps} repetition(s) per process count; medians (min–max). "× 1 process" = median rate / median rate with ${sizes.clusterProcesses[0]} process of the same setup.`,
    );
  } finally {
    for (const q of opened) await q.close().catch(() => undefined);
    await cluster.stop();
    await ctx.redis.flush();
  }
  for (const p of new Set(problems)) table.note(`PROBLEM: ${p}`);
  return [table];
}
