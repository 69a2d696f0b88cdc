#!/usr/bin/env node
/**
 * BullMQ's drain rate, measured the way a new user would: plain `node`, a bare `new Worker(...)` with
 * default options, nothing of the benchmark harness loaded. `npm run bench` runs this same file in
 * the same run and checks that its own BullMQ drain figure is within 15% of this one.
 *
 *   node bench/crosscheck/bullmq-drain.mjs [--redis=URL] [--n=50000] [--concurrency=50] [--runs=1] [--json]
 *
 * Environment instead of flags: REDIS_URL (default redis://127.0.0.1:6379), N, CONCURRENCY, RUNS.
 *
 * Per run: enqueue N jobs with `queue.addBulk` (1000 per call; name "echo", data { payload: "hello
 * world" }, attempts 4 with exponential backoff from 1 s: the retry promise of our max_retry 3, as
 * in the harness), then start `new Worker(queue, processor, { connection, concurrency })` on the full
 * queue. The processor returns `echo: <payload>`. The drain time is read from the jobs' own
 * timestamps: the earliest `processedOn` to the latest `finishedOn` (both written by BullMQ), so
 * process and connection start-up are not counted. Rate = N / that time.
 *
 * Safe on a shared Redis: each run uses a fresh queue name (crosscheck-<pid>-<run>) and removes it
 * with `queue.obliterate()` at the end. Nothing else is read or written.
 */
import { Queue, Worker } from 'bullmq';
import { createRequire } from 'node:module';

const BULLMQ_VERSION = createRequire(import.meta.url)('bullmq/package.json').version;

const NAME = 'echo';
const PAYLOAD = 'hello world';
const JOB_OPTS = { attempts: 4, backoff: { type: 'exponential', delay: 1000 } };

function option(flag, envName, fallback) {
  const found = process.argv.slice(2).find((a) => a.startsWith(`--${flag}=`));
  if (found) return found.slice(flag.length + 3);
  return process.env[envName] ?? fallback;
}

function connectionFromUrl(text) {
  const url = new URL(text);
  if (url.protocol !== 'redis:') throw new Error(`only redis:// URLs are supported (got ${text})`);
  const connection = { host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) };
  if (url.username) connection.username = decodeURIComponent(url.username);
  if (url.password) connection.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db) connection.db = Number(db);
  return connection;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Queues n jobs, 1000 per addBulk. */
async function enqueue(queue, n) {
  for (let done = 0; done < n; ) {
    const size = Math.min(1000, n - done);
    await queue.addBulk(Array.from({ length: size }, () => ({ name: NAME, data: { payload: PAYLOAD }, opts: JOB_OPTS })));
    done += size;
  }
}

/**
 * Earliest processedOn and latest finishedOn over the finished jobs, read through the public API
 * (Queue.getJobs, 5000 per page).
 */
async function span(queue) {
  let start = Infinity;
  let end = -Infinity;
  let finished = 0;
  for (let from = 0; ; from += 5000) {
    const jobs = await queue.getJobs(['completed', 'failed'], from, from + 4999, true);
    for (const job of jobs) {
      if (job.processedOn !== undefined) start = Math.min(start, job.processedOn);
      if (job.finishedOn !== undefined) {
        end = Math.max(end, job.finishedOn);
        finished += 1;
      }
    }
    if (jobs.length < 5000) break;
  }
  return { start, end, finished };
}

/** Fails (instead of retrying for ever, as a BullMQ connection does) when Redis does not answer. */
async function whenReachable(queue, redisUrl, timeoutMs = 10_000) {
  let lastError;
  queue.on('error', (err) => (lastError = err));
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${redisUrl} within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`)), timeoutMs);
  });
  try {
    await Promise.race([queue.waitUntilReady(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function oneRun(connection, redisUrl, n, concurrency, run) {
  const queueName = `crosscheck-${process.pid}-${run}`;
  const queue = new Queue(queueName, { connection });
  await whenReachable(queue, redisUrl);
  try {
    await enqueue(queue, n);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // The subject: a bare Worker, default options.
    const worker = new Worker(queueName, async (job) => `echo: ${job.data.payload}`, { connection, concurrency });
    worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
    let counts;
    for (;;) {
      counts = await queue.getJobCounts('completed', 'failed');
      if (counts.completed + counts.failed >= n) break;
      await sleep(20);
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await worker.close();
    const s = await span(queue);
    if (s.finished !== n) throw new Error(`${s.finished} of ${n} jobs have finishedOn`);
    const ms = s.end - s.start;
    return {
      bullmq: BULLMQ_VERSION,
      n,
      concurrency,
      completed: counts.completed,
      failed: counts.failed,
      ms,
      perSec: (n / ms) * 1000,
      wallMs,
      // This process runs the Worker (and the idle Queue polling counts every 20 ms): its CPU per job.
      cpuUsPerJob: (cpu.user + cpu.system) / n,
    };
  } finally {
    await queue.obliterate({ force: true }).catch((err) => process.stderr.write(`obliterate failed: ${err.message}\n`));
    await queue.close();
  }
}

async function main() {
  const redisUrl = option('redis', 'REDIS_URL', 'redis://127.0.0.1:6379');
  const n = Number(option('n', 'N', '50000'));
  const concurrency = Number(option('concurrency', 'CONCURRENCY', '50'));
  const runs = Number(option('runs', 'RUNS', '1'));
  const json = process.argv.includes('--json');
  if (!(n > 0) || !(concurrency > 0) || !(runs > 0)) throw new Error('n, concurrency and runs must be positive');
  const connection = connectionFromUrl(redisUrl);
  const results = [];
  for (let run = 1; run <= runs; run += 1) {
    const r = await oneRun(connection, redisUrl, n, concurrency, run);
    results.push(r);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      process.stdout.write(
        `bullmq ${BULLMQ_VERSION}, node ${process.version}: ` +
          `drained ${n} jobs at concurrency ${concurrency} in ${r.ms} ms (first processedOn -> last finishedOn): ` +
          `${Math.round(r.perSec)} jobs/s; ${r.completed} completed, ${r.failed} failed; ` +
          `worker start to all finished ${Math.round(r.wallMs)} ms; CPU of this process ${r.cpuUsPerJob.toFixed(1)} µs/job\n`,
      );
    }
  }
  if (runs > 1 && !json) {
    const rates = results.map((r) => r.perSec).sort((a, b) => a - b);
    const mid = rates.length >> 1;
    const median = rates.length % 2 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2;
    process.stdout.write(`median of ${runs} runs: ${Math.round(median)} jobs/s (min ${Math.round(rates[0])}, max ${Math.round(rates[rates.length - 1])})\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
