import fc from 'fast-check';
import { AfterRunReport, FuzzApp, prototypeSnapshot, startFuzzApp, verifyAfterRun } from './fuzz/http-api.property';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';

/**
 * Property-based test of the HTTP API under hostile input (the model is in test/fuzz/). 500 bursts
 * of random requests against the whole app (API and 2 workers, so accepted tasks also run), every
 * one of them run (about 5 s here; 1,000 took 10.5 s with `npm run fuzz -- --runs 1000`);
 * `npm run fuzz` runs the same property with thousands of cases. FUZZ_SEED replays a failing run,
 * FUZZ_NUM_RUNS changes the count.
 */
const NUM_RUNS = Number(process.env.FUZZ_NUM_RUNS ?? 500);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe('hostile HTTP input (fast-check)', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('fuzz');
  let fuzz: FuzzApp;
  const prototypeBefore = prototypeSnapshot();

  beforeAll(async () => {
    fuzz = await startFuzzApp({ QUEUE_PREFIX: prefix });
  });
  afterAll(async () => {
    await fuzz?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it(`every response is 2xx/4xx JSON, never 5xx (${NUM_RUNS} bursts of 1..4 requests)`, async () => {
    // No time limit: every case runs, however slow the machine (the jest timeout only stops a hang).
    await fc.assert(fuzz.fuzzer.property({ bodyLimitBytes: fuzz.testApp.config.server.bodyLimitBytes }), {
      numRuns: NUM_RUNS,
      seed: SEED,
      // One shrink step replays requests against the same app; keep a failure's report quick.
      endOnFailure: true,
    });
    const { stats } = fuzz.fuzzer;
    expect(stats.cases).toBe(NUM_RUNS);
    // The model reaches every kind of answer: created, read, deleted and rejected.
    for (const status of ['200', '201', '400', '404', '413']) expect(stats.statuses[status] ?? 0).toBeGreaterThan(0);
    expect(Object.keys(stats.statuses).every((s) => Number(s) < 500)).toBe(true);
  }, 300_000);

  it('afterwards: healthy, queue drains, zero integrity violations, no stray keys, every accepted task finished', async () => {
    const report: AfterRunReport = await verifyAfterRun(fuzz, { prototypeBefore });
    expect(report.problems).toEqual([]);
    expect(report.integrity.violations).toEqual([]);
    expect(report.created).toBeGreaterThan(0);
    expect(report.integrity.tasks).toBe(report.created - report.deleted);
    expect(report.integrity.byStatus.completed + report.integrity.byStatus.failed).toBe(report.integrity.tasks);
  }, 60_000);
});
