/**
 * `npm run fuzz [-- --runs N] [-- --seed S]`: the hostile-HTTP property of http-api.property.ts at
 * scale, against the whole app in this process (API and 2 workers, its own QUEUE_PREFIX on the Redis
 * of TEST_REDIS_URL, default redis://127.0.0.1:6379). FUZZ_RUNS / FUZZ_SEED work too. It runs the
 * test's property with the test's helpers, so it lives beside them.
 *
 * Prints a summary (cases, requests, statuses, kinds of traffic, time), then waits for the queue to
 * drain and runs the checks after the run, QueueIntegrityChecker included. Exit code 0 when every
 * response kept the contract and the checks found nothing, 1 otherwise. The run's keys are deleted
 * at the end unless --keep is given.
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { prototypeSnapshot, startFuzzApp, verifyAfterRun } from './http-api.property';
import { deleteByPrefix, testRedis, uniquePrefix } from '../support/redis';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

function positiveInteger(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${what} must be a positive integer (got "${text}")`);
  return Number(text);
}

const table = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}=${n}`)
    .join('  ');

async function main(): Promise<number> {
  const runs = positiveInteger(option('runs') ?? process.env.FUZZ_RUNS, 5000, 'runs');
  const seedText = option('seed') ?? process.env.FUZZ_SEED;
  const seed = seedText === undefined ? Date.now() % 2 ** 31 : Number(seedText);
  const keep = process.argv.includes('--keep');
  const prefix = uniquePrefix('fuzz');
  const prototypeBefore = prototypeSnapshot();

  process.stdout.write(`fuzz: ${runs} cases, seed ${seed}, QUEUE_PREFIX ${prefix}\n`);
  const fuzz = await startFuzzApp({ QUEUE_PREFIX: prefix });
  const redis = testRedis();
  let failed = false;
  try {
    const started = Date.now();
    const details = await fc.check(fuzz.fuzzer.property({ bodyLimitBytes: fuzz.testApp.config.server.bodyLimitBytes }), {
      numRuns: runs,
      seed,
    });
    const elapsed = (Date.now() - started) / 1000;
    const { stats } = fuzz.fuzzer;
    process.stdout.write(
      [
        `cases:     ${stats.cases} (${stats.requests} requests, ${(stats.requests / elapsed).toFixed(0)}/s) in ${elapsed.toFixed(1)} s`,
        `statuses:  ${table(stats.statuses)}`,
        `traffic:   ${table(stats.kinds)}`,
        `tasks:     ${stats.created.length} accepted (201), ${stats.deleted.size} of them deleted (204)`,
        '',
      ].join('\n'),
    );
    if (details.failed) {
      failed = true;
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      process.stdout.write(`PROPERTY FAILED\n${fc.defaultReportMessage(details) ?? ''}\nCause: ${cause}\n`);
    }

    const report = await verifyAfterRun(fuzz, { prototypeBefore });
    process.stdout.write(
      [
        `drained:   queue quiet after ${report.quietAfterMs} ms`,
        `checker:   ${report.integrity.tasks} tasks ${JSON.stringify(report.integrity.byStatus)}, ${report.integrity.violations.length} violations`,
        `keys:      ${report.keysMentioningPrefix} keys mention the prefix, all under the queue base: ${report.problems.every((p) => !p.startsWith('key outside'))}`,
        '',
      ].join('\n'),
    );
    if (report.problems.length > 0) {
      failed = true;
      process.stdout.write(`CHECKS AFTER THE RUN FAILED:\n  - ${report.problems.join('\n  - ')}\n`);
    }
  } finally {
    await fuzz.close();
    if (!keep) await deleteByPrefix(redis, prefix);
    redis.disconnect();
  }
  process.stdout.write(failed ? 'fuzz: FAILED\n' : 'fuzz: ok\n');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
