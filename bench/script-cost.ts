/**
 * Redis script time per task, by phase: drains N tasks through QueueRepository (as a worker does:
 * bulk enqueue, fetch in batches, settle in batches) on a private redis-server and reads the
 * EVALSHA time from `INFO commandstats` after each phase.
 *
 *   npx ts-node --transpile-only bench/script-cost.ts [--tasks=20000] [--fetch=50] [--reps=3] [--subscribers=0] [--fused] [--compact] [--store-defaults] [--payload-bytes=N] [--by-command] [--code=DIR]
 *
 * Prints µs of script time per task for every phase and in total (median of the repetitions).
 * Starts carry a worker id, as the pool's do (kept for the attempt history). `--fused` settles each
 * task with one 'run' (start and completion in one settlement, what a worker sends for a short
 * handler) instead of a start phase and a complete phase. `--compact` runs with
 * COMPACT_COMPLETED_TASKS=true (the default; without it the run sets false). `--store-defaults` runs
 * with STORE_TASK_DEFAULTS=true (new tasks store retries, attempts and updated_at). `--payload-bytes=N`: payloads of N bytes
 * instead of `hello world`. "of which in commands": the part of the script time spent in the
 * Redis commands the script called (INFO commandstats counts them under their own names); the rest
 * is the Lua interpreter and its redis.call bridge; `--by-command` also prints, per phase, each such
 * command's µs and calls per task (last repetition). `--subscribers=N` keeps N
 * clients subscribed to the queue's events channel during the run, as N API processes with waiting
 * requests would be: the one PUBLISH of each script call is then delivered N times. `--code=DIR`
 * measures a compiled build (a copy of some commit's dist/, node_modules resolving from it, as
 * bench/drain-ab.ts takes them) instead of src/ through ts-node: its repository and its Lua scripts.
 */
import { BenchRedis } from './lib/redis-server';
import { newTasks, OurCode, OurQueue, SRC_CODE } from './lib/ours';

interface Phase {
  name: string;
  run: (q: OurQueue, n: number, fetchBatch: number) => Promise<void>;
}

function arg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.split('=')[1]) : fallback;
}

/** Script time (EVALSHA and EVAL), and the part of it spent in the commands the scripts called. */
async function scriptUsec(
  redis: BenchRedis,
): Promise<{ calls: number; usec: number; inCommands: number; byCommand: Map<string, { calls: number; usec: number }> }> {
  const info = await redis.admin.info('commandstats');
  let calls = 0;
  let usec = 0;
  let inCommands = 0;
  const byCommand = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'evalsha' || m[1] === 'eval') {
      calls += Number(m[2]);
      usec += Number(m[3]);
    } else if (m[1] !== 'info' && !m[1].startsWith('config')) {
      inCommands += Number(m[3]);
      byCommand.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
    }
  }
  return { calls, usec, inCommands, byCommand };
}

const ENQUEUE_BATCH = 1000;

async function main(): Promise<void> {
  const n = arg('tasks', 20_000);
  const fetchBatch = arg('fetch', 50);
  const reps = arg('reps', 3);
  const subscriberCount = arg('subscribers', 0);
  const fused = process.argv.includes('--fused');
  const compact = process.argv.includes('--compact');
  const storeDefaults = process.argv.includes('--store-defaults');
  const payloadBytes = arg('payload-bytes', 0);
  const byCommandWanted = process.argv.includes('--by-command');
  const payload = payloadBytes > 0 ? 'p'.repeat(payloadBytes) : undefined;
  const codeDir = process.argv.find((a) => a.startsWith('--code='))?.slice('--code='.length);
  const code: OurCode = codeDir ? { dir: codeDir, ts: false, label: codeDir } : SRC_CODE;
  const redis = await BenchRedis.start();
  const q = await OurQueue.open(redis.url, code, {
    COMPACT_COMPLETED_TASKS: compact ? 'true' : 'false',
    STORE_TASK_DEFAULTS: storeDefaults ? 'true' : 'false',
  });
  const subscribers = Array.from({ length: subscriberCount }, (_, i) => redis.client(`bench-events-${i}`));
  for (const sub of subscribers) await sub.subscribe(`${q.keys.base}events`);
  const leased: Array<{ id: string; token: number }> = [];
  const phases: Phase[] = [
    {
      name: 'enqueue (batches of 1000)',
      run: async (queue, count) => {
        // At most about 8 MB of payloads per call.
        const batch = payload ? Math.max(1, Math.min(ENQUEUE_BATCH, Math.floor(8_000_000 / payload.length))) : ENQUEUE_BATCH;
        for (let i = 0; i < count; i += batch) await queue.repo.enqueue(newTasks(Math.min(batch, count - i), undefined, payload));
      },
    },
    {
      name: `fetch (${fetchBatch} per call)`,
      run: async (queue, count, batch) => {
        while (leased.length < count) {
          const { tasks } = await queue.repo.fetch(batch, 30_000);
          if (tasks.length === 0) throw new Error('queue ran dry');
          leased.push(...tasks);
        }
      },
    },
  ];
  const startThenComplete: Phase[] = [
    {
      name: `settle start (${fetchBatch} per call)`,
      run: async (queue, _count, batch) => {
        for (let i = 0; i < leased.length; i += batch) {
          await queue.repo.settle(leased.slice(i, i + batch).map((lease) => ({ lease, mode: 'start', text: '', workerId: 'bench-host-12345/1' })));
        }
      },
    },
    {
      name: `settle complete (${fetchBatch} per call)`,
      run: async (queue, _count, batch) => {
        for (let i = 0; i < leased.length; i += batch) {
          await queue.repo.settle(leased.slice(i, i + batch).map((lease) => ({ lease, mode: 'complete', text: 'ok' })));
        }
      },
    },
  ];
  // What a worker sends for a short handler: its start and completion fused into one 'run'.
  const run: Phase = {
    name: `settle run (${fetchBatch} per call)`,
    run: async (queue, _count, batch) => {
      for (let i = 0; i < leased.length; i += batch) {
        await queue.repo.settle(leased.slice(i, i + batch).map((lease) => ({ lease, mode: 'run', text: 'ok', workerId: 'bench-host-12345/1' })));
      }
    },
  };
  phases.push(...(fused ? [run] : startThenComplete));
  const results = new Map<string, number[]>();
  // The part of each phase's script time spent in the Redis commands it called (the rest is the
  // Lua interpreter and the redis.call bridge).
  const commandShares = new Map<string, number[]>();
  const lastByCommand = new Map<string, Map<string, { calls: number; usec: number }>>();
  try {
    for (let rep = 0; rep < reps; rep += 1) {
      await redis.flush();
      leased.length = 0;
      for (const phase of phases) {
        await redis.resetStats();
        await phase.run(q, n, fetchBatch);
        const { usec, inCommands, byCommand } = await scriptUsec(redis);
        lastByCommand.set(phase.name, byCommand);
        const perTask = usec / n;
        results.set(phase.name, [...(results.get(phase.name) ?? []), perTask]);
        commandShares.set(phase.name, [...(commandShares.get(phase.name) ?? []), inCommands / n]);
      }
    }
  } finally {
    for (const sub of subscribers) sub.disconnect();
    await q.close();
    await redis.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let total = 0;
  process.stdout.write(
    `script time per task, ${n} tasks, median of ${reps}, ${subscriberCount} events subscribers, COMPACT_COMPLETED_TASKS=${compact}, STORE_TASK_DEFAULTS=${storeDefaults}${payload ? `, payloads of ${payloadBytes} bytes` : ''}, code ${code.label} (Redis ${redis.version}):\n`,
  );
  for (const [name, xs] of results) {
    const m = median(xs);
    total += m;
    const inCommands = median(commandShares.get(name) ?? []);
    process.stdout.write(
      `  ${name.padEnd(32)} ${m.toFixed(2)} µs, of which in commands ${inCommands.toFixed(2)}   (runs: ${xs.map((x) => x.toFixed(2)).join(', ')})\n`,
    );
    if (byCommandWanted) {
      const rows = [...(lastByCommand.get(name) ?? new Map<string, { calls: number; usec: number }>())].sort((a, b) => b[1].usec - a[1].usec);
      for (const [command, { calls, usec }] of rows) {
        process.stdout.write(`      ${command.padEnd(12)} ${(usec / n).toFixed(2)} µs, ${(calls / n).toFixed(3)} calls per task\n`);
      }
    }
  }
  process.stdout.write(`  ${'total'.padEnd(32)} ${total.toFixed(2)} µs\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
