/**
 * A/B of the one-process drain between builds of our service: N queued no-op tasks drained by one
 * worker process (`node <dir>/main.js`, APP_ROLE=worker, WORKER_COUNT=c) of each build in turn,
 * alternating the order every repetition, on one private redis-server; prints the rate and the CPU per
 * task of the worker and of Redis (bench/lib/measure.ts drainOurs, the figures of table 2/2b of
 * `npm run bench`). CPU per task is the figure that holds on a busy machine.
 *
 *   npx ts-node --transpile-only bench/drain-ab.ts --code=DIR[::K=V,...] --code=DIR[::K=V,...] [--reps=6] [--tasks=50000] [--c=50] [--port=6393]
 *
 * Each DIR is a compiled build with its Lua scripts (`npm run build` in a worktree, then a copy of its
 * dist/, so a later build cannot change what is measured); node_modules must resolve from it (a
 * symlink beside it will do). Tasks are queued by the first build's code. K=V pairs after `::` are more
 * configuration of that side's worker process, e.g. `--code=DIR --code=DIR::COMPACT_COMPLETED_TASKS=false`.
 * BENCH_COMMANDSTATS=1 prints where Redis' time went, by command, after every drain.
 */
import { loadavg } from 'node:os';
import { BenchContext, FULL } from './lib/context';
import { drainOurs } from './lib/measure';
import { OurQueue } from './lib/ours';
import { killAllChildren } from './lib/processes';
import { BenchRedis } from './lib/redis-server';
import { parseCodeSpec } from './lib/util';

async function main(): Promise<void> {
  const args = (name: string) => process.argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
  const dirs = args('code');
  const reps = Number(args('reps')[0] ?? 6);
  const n = Number(args('tasks')[0] ?? 50_000);
  const concurrency = Number(args('c')[0] ?? 50);
  const port = Number(args('port')[0] ?? 6393);
  if (dirs.length === 0) throw new Error('give at least one --code=DIR');
  const redis = await BenchRedis.start(port);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`drain of ${n} tasks, 1 worker process at concurrency ${concurrency}, ${reps} alternating repetitions, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows = new Map<string, { worker: number[]; redis: number[]; rate: number[] }>(dirs.map((d) => [d, { worker: [], redis: [], rate: [] }]));
  try {
    for (let r = 0; r < reps; r += 1) {
      for (const spec of r % 2 === 0 ? dirs : [...dirs].reverse()) {
        const { dir, env } = parseCodeSpec(spec);
        const code = { dir, ts: false, label: spec };
        const ctx = new BenchContext(redis, FULL, { root: '', code, js: '' }, () => undefined);
        const q = await OurQueue.open(redis.url, { ...code, dir: parseCodeSpec(dirs[0]).dir });
        const res = await drainOurs(ctx, q, n, concurrency, 1, env);
        await q.close();
        const row = rows.get(spec)!;
        row.worker.push(res.workerCpuUsPerTask);
        row.redis.push(res.redisCpuUsPerTask);
        row.rate.push(res.perSec);
        write(
          `rep ${r + 1} ${spec}: ${Math.round(res.perSec)} tasks/s, worker ${res.workerCpuUsPerTask.toFixed(1)} µs, Redis ${res.redisCpuUsPerTask.toFixed(1)} µs per task${res.problem ? ` PROBLEM: ${res.problem}` : ''} (load ${loadavg()[0].toFixed(2)})`,
        );
      }
    }
  } finally {
    await redis.stop();
    killAllChildren();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  for (const [dir, row] of rows) {
    write(`median ${dir}: ${Math.round(median(row.rate))} tasks/s, worker ${median(row.worker).toFixed(1)} µs, Redis ${median(row.redis).toFixed(1)} µs per task`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
