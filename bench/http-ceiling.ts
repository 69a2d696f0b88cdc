/**
 * How close to its ceilings `POST /tasks` is: our API process, NestJS + @nestjs/bullmq, and two
 * ceilings, the constant Nest app (the framework) and the same app making one Redis round trip per
 * request and storing nothing (bench/reference-app/roundtrip-app.module.ts: what any queue on NestJS
 * and Redis has to do at least). Same load as table 3 of `npm run bench` (wrk in its own process,
 * the same body, FLUSHALL before each run, one warm-up run per app), the four apps in rotating order
 * within each repetition; prints each run, then medians (min–max) of req/s and of the server's CPU per
 * request, and the ratios of the medians.
 *
 *   npx ts-node --transpile-only bench/http-ceiling.ts [--reps=3] [--seconds=10] [--connections=50,200]
 *
 * Uses a private build of src/ and of the benchmark (plain node for every measured process) and a
 * private redis-server, like bench/run.ts.
 */
import { loadavg } from 'node:os';
import { buildPrivateCopy, removePrivateCopy } from './lib/build';
import { BenchContext, FULL, HttpApp } from './lib/context';
import { TASK_BODY } from './lib/measure';
import { installSignalCleanup, killAllChildren, stopAll } from './lib/processes';
import { BenchRedis } from './lib/redis-server';
import { withCpu } from './lib/sections';
import { fmtNumber, ratio, Sample } from './lib/stats';

async function main(): Promise<void> {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const reps = Number(arg('reps') ?? 3);
  const seconds = Number(arg('seconds') ?? 10);
  const connectionCounts = (arg('connections') ?? '50').split(',').map(Number);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const build = await buildPrivateCopy(log);
  const redis = await BenchRedis.start();
  installSignalCleanup(() => removePrivateCopy(build));
  const ctx = new BenchContext(redis, FULL, build, log);
  const apps: HttpApp[] = [];
  try {
    apps.push(await ctx.ourApi(), await ctx.referenceApp('bullmq'), await ctx.referenceApp('roundtrip'), await ctx.referenceApp('constant'));
    write(`POST /tasks, ${reps} repetitions of ${seconds} s per app and connection count, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const app of apps) await ctx.load.run({ url: `${app.url}/tasks`, method: 'POST', body: TASK_BODY, connections: 50, seconds: 2 });
    for (const connections of connectionCounts) {
      const rps = apps.map(() => new Sample('req/s'));
      const cpu = apps.map(() => new Sample('µs', 0));
      for (let rep = 0; rep < reps; rep += 1) {
        for (let k = 0; k < apps.length; k += 1) {
          const i = (k + rep) % apps.length;
          await redis.flush();
          const [r, used] = await withCpu(ctx, apps[i], () =>
            ctx.load.run({ url: `${apps[i].url}/tasks`, method: 'POST', body: TASK_BODY, connections, seconds }),
          );
          const requests = r.ok + r.non2xx;
          if (r.non2xx > 0 || r.errors + r.timeouts > 0) write(`  PROBLEM: ${apps[i].name} answered ${r.non2xx} non-2xx, ${r.errors + r.timeouts} errors`);
          rps[i].add(r.rps);
          cpu[i].add((used.app * 1000) / Math.max(1, requests));
          write(`rep ${rep + 1}, ${connections} connections, ${apps[i].name}: ${fmtNumber(r.rps)} req/s, server CPU ${fmtNumber(cpu[i].values[rep])} µs per request (${r.generator} ${(r.generatorCores * 100).toFixed(0)} % of a core)`);
        }
      }
      write(`\n${connections} connections, medians (min–max):`);
      for (let i = 0; i < apps.length; i += 1) write(`  ${apps[i].name.padEnd(22)} ${rps[i].format()} req/s, server CPU ${cpu[i].format()} µs per request`);
      const [ours, bull, roundTrip, constant] = rps.map((s) => s.median);
      write(`  ours / Nest+BullMQ ${ratio(ours, bull)}; ours / Nest + 1 round trip ${ratio(ours, roundTrip)}; ours / constant ${ratio(ours, constant)}`);
      write(`  Nest + 1 round trip / constant ${ratio(roundTrip, constant)}; Nest+BullMQ / constant ${ratio(bull, constant)}; Nest + 1 round trip / Nest+BullMQ ${ratio(roundTrip, bull)} (1.3× Nest+BullMQ = ${fmtNumber(1.3 * bull)} req/s)\n`);
    }
  } finally {
    await stopAll(apps.map((a) => a.child));
    await redis.stop();
    killAllChildren();
    removePrivateCopy(build);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
