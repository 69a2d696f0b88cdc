/**
 * One BullMQ Worker process: the reference for the drain, pickup, end-to-end and idle figures.
 * `new Worker(queue, processor, { connection, prefix, concurrency })`: default worker options (lock
 * 30 s, stalled check 30 s, drainDelay 5 s), BullMQ's default prefix, concurrency from
 * BENCH_CONCURRENCY. Runs compiled, with plain node, like bench/crosscheck/bullmq-drain.mjs (whose
 * figure the drain section checks this process against). Jobs named `pickup` return their pickup
 * latency (processor start minus the enqueue time in `data.t`, high-resolution ms); every other job
 * returns `echo: <payload>`, as in the cross-check.
 */
import { Worker } from 'bullmq';
import { BULL_PREFIX, BULL_QUEUE } from '../lib/bull';

const hrNow = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const worker = new Worker(
    BULL_QUEUE,
    async (job) => (job.name === 'pickup' ? (hrNow() - Number(job.data.t)).toFixed(3) : `echo: ${job.data.payload}`),
    {
      connection: { host: '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT), maxRetriesPerRequest: null },
      prefix: BULL_PREFIX,
      concurrency: Number(process.env.BENCH_CONCURRENCY ?? 1),
    },
  );
  worker.on('error', (err) => process.stderr.write(`bullmq worker error: ${err.message}\n`));
  await worker.waitUntilReady();
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await worker.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.send?.({ type: 'ready' });
}

process.on('disconnect', () => process.exit(1));
main().catch((err) => {
  process.stderr.write(`bullmq-worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
