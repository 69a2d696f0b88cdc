/**
 * CPU profiles of our processes under load, summarised (self time by package and function, inclusive
 * time of our own functions):
 * - worker: one worker process (WORKER_COUNT=concurrency) draining N queued no-op tasks;
 * - api: one API process under POST /tasks (50 connections; wrk or autocannon in its own process);
 *   with `--refs`, the reference apps (the constant Nest app, the one-round-trip app of
 *   bench/http-ceiling.ts and Nest+BullMQ)
 *   under the same load after it, so the shares (GC, socket writes, the framework) can be compared;
 *   with `--alloc`, also the bytes each app allocates per request after its warm-up, and the worker
 *   per task drained after its boot (by package and function: what the garbage collector reclaims),
 *   from bench/procs/alloc-sampler.
 *
 *   ts-node --transpile-only bench/profile.ts [--tasks=50000] [--concurrency=50] [--seconds=10] [--only=worker|api] [--refs] [--alloc] [--out=DIR]
 *
 * Uses a private build of src/ (our processes run it with plain node) and a private redis-server,
 * like bench/run.ts. The .cpuprofile files
 * stay in DIR (default /tmp/taskqueue-profiles) for Chrome DevTools or speedscope.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildPrivateCopy, removePrivateCopy } from './lib/build';
import { BenchContext, FULL, HttpApp } from './lib/context';
import { fillOurs, TASK_BODY } from './lib/measure';
import { OurQueue } from './lib/ours';
import { installSignalCleanup, killAllChildren, stopAll } from './lib/processes';
import { BenchRedis } from './lib/redis-server';
import { AllocationProfile, summarize, summarizeAllocations } from './profile-summary';
import { sleep, waitFor } from './lib/util';

async function main(): Promise<void> {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const tasks = Number(arg('tasks') ?? 50_000);
  const seconds = Number(arg('seconds') ?? 10);
  const concurrency = Number(arg('concurrency') ?? 50);
  const only = arg('only');
  const out = resolve(arg('out') ?? `/tmp/taskqueue-profiles/${Date.now()}`);
  mkdirSync(out, { recursive: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const build = await buildPrivateCopy(log);
  const redis = await BenchRedis.start();
  installSignalCleanup(() => removePrivateCopy(build));
  const ctx = new BenchContext(redis, FULL, build, log, out);
  const alloc = process.argv.includes('--alloc');
  if (alloc) ctx.allocProfDir = out;
  /** What was done while allocations were sampled, by profile name prefix: requests answered (HTTP apps), tasks drained (the worker). */
  const sampledCounts = new Map<string, number>();
  /** Warm-up, then (with --alloc) the sampling starts, then the measured load. */
  const loadApp = async (app: HttpApp, prefix: string) => {
    await ctx.load.run({ url: `${app.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 50, seconds: 2 });
    if (alloc && app.child.pid !== undefined) {
      process.kill(app.child.pid, 'SIGUSR2');
      await sleep(200);
    }
    const r = await ctx.load.run({ url: `${app.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 50, seconds });
    sampledCounts.set(prefix, r.ok + r.non2xx);
    return r;
  };
  const q = await OurQueue.open(redis.url, build.code);
  try {
    if (!only || only === 'worker') {
      // With --alloc the queue stays paused while the worker boots: its sampling starts (SIGUSR2) once
      // it is ready, so the profile holds the drain and not the boot.
      if (alloc) await q.repo.pause('default');
      await fillOurs(q, tasks);
      const t0 = Date.now();
      const worker = await ctx.ourWorker(concurrency);
      if (alloc) {
        if (worker.pid !== undefined) {
          process.kill(worker.pid, 'SIGUSR2');
          await sleep(200);
          sampledCounts.set(`our-worker-c${concurrency}`, tasks);
        }
        await q.repo.resume('default');
      }
      await waitFor(async () => ((await redis.admin.zcard(q.keys.byStatus('completed'))) + (await redis.admin.zcard(q.keys.byStatus('failed'))) >= tasks ? true : undefined), 'drain', 30_000 + tasks * 2, 20);
      log(`worker (concurrency ${concurrency}): ${tasks} tasks drained ${Date.now() - t0} ms after spawn (boot included)`);
      await stopAll([worker]);
      await redis.flush();
    }
    if (!only || only === 'api') {
      const api = await ctx.ourApi();
      const r = await loadApp(api, 'our-api');
      log(`api: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.generator} (profile includes boot and a 2 s warm-up)`);
      await stopAll([api.child]);
      if (process.argv.includes('--refs')) {
        for (const kind of ['constant', 'roundtrip', 'bullmq'] as const) {
          await redis.flush();
          const app = await ctx.referenceApp(kind);
          const rr = await loadApp(app, `reference-${kind}`);
          log(`${app.name}: ${Math.round(rr.rps)} req/s, p50 ${rr.p50.toFixed(2)} ms, p99 ${rr.p99.toFixed(2)} ms, ${rr.generator}`);
          await stopAll([app.child]);
        }
      }
    }
  } finally {
    await q.close();
    await redis.stop();
    killAllChildren();
    removePrivateCopy(build);
  }
  for (const f of readdirSync(out).filter((n) => n.endsWith('.cpuprofile'))) {
    process.stdout.write(`== ${join(out, f)}\n${summarize(JSON.parse(readFileSync(join(out, f), 'utf8')), 30)}\n\n`);
  }
  for (const f of readdirSync(out).filter((n) => n.endsWith('.allocprofile'))) {
    const requests = [...sampledCounts].find(([prefix]) => f.startsWith(`${prefix}-`))?.[1];
    if (!requests) continue;
    const profile = JSON.parse(readFileSync(join(out, f), 'utf8')) as AllocationProfile;
    process.stdout.write(`== ${join(out, f)}\n${summarizeAllocations(profile, requests, 20, f.startsWith('our-worker') ? 'task' : 'request')}\n\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
