import { ensureDist } from '../scripts/chaos/build';
import { ChaosFigures } from '../scripts/chaos/figures';
import { runChaos } from '../scripts/chaos/harness';
import { formatDetails, formatTable } from '../scripts/chaos/report';

/**
 * The small configuration of `npm run chaos`: real processes (its own redis-server with AOF on a
 * free loopback port, one API and three worker processes from dist), 2,000 tasks submitted over
 * HTTP while three workers are SIGKILLed, one is frozen past its lease, one is SIGTERMed and Redis
 * is SIGKILLed and restarted once. Runs with appendfsync always, where no accepted task may be
 * lost at all. Never touches the shared Redis on 6379.
 */
describe('chaos (small configuration of npm run chaos)', () => {
  const LEASE_MS = 2000;
  let figures: ChaosFigures;
  const progress: string[] = [];

  beforeAll(async () => {
    // CI builds before testing; a developer running `npm test` alone may have no dist, or one older
    // than src: build it then, so the test never runs yesterday's code.
    if (!process.env.CHAOS_DIST) ensureDist({ rebuildIfStale: true, log: (line) => progress.push(line) });
    figures = await runChaos({
      tasks: 2000,
      kills: 3,
      redisRestarts: 1,
      freezes: 1,
      sigterms: 1,
      workers: 3,
      rate: 100,
      leaseMs: LEASE_MS,
      fsync: 'always',
      // CHAOS_DIST runs another build (a directory laid out like dist/) instead of dist/.
      distDir: process.env.CHAOS_DIST || undefined,
      log: (line) => progress.push(line),
    });
    if (!figures.pass) {
      process.stderr.write(`${progress.join('\n')}\n\n${formatTable([figures], LEASE_MS)}\n\n${formatDetails(figures)}\n`);
    }
  }, 360_000);

  it('accepts the tasks and runs every fault', () => {
    expect(figures.accepted).toBeGreaterThan(1900);
    expect(figures.killsDone).toBe(3);
    expect(figures.redisRestarts).toHaveLength(1);
    expect(figures.freezes).toHaveLength(1);
    expect(figures.sigterms).toHaveLength(1);
    expect(figures.sigterms[0].exit).toBe('exit 0');
  });

  it('loses no accepted task: every one is completed or failed', () => {
    expect(figures.lostSample).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(figures.lostTotal).toBe(0);
    expect(figures.completed + figures.failed).toBe(figures.accepted);
    expect(figures.drained).toBe(true);
  });

  it('leaves zero invariant violations (queue-integrity checker)', () => {
    expect(figures.checker.error).toBeUndefined();
    expect(figures.checker.ran).toBe(true);
    expect(figures.checker.sample).toEqual([]);
    expect(figures.checker.violations).toBe(0);
  });

  it('never takes a task out of a terminal state, nor accepts a stale or second terminal write', () => {
    expect(figures.terminalSampled).toBeGreaterThan(0);
    expect(figures.terminalLeft).toBe(0);
    expect(figures.doubleTerminalWrites).toBe(0);
    expect(figures.wrongResults).toBe(0);
    expect(figures.apiMismatches).toBe(0);
    expect(figures.sigterms[0].leftActive).toBe(0);
  });

  it('runs every task a killed worker was running again, and each one finishes', () => {
    const { killRecovery } = figures;
    // The kills pick workers with tasks in flight, so there is something to recover.
    expect(killRecovery.running).toBeGreaterThan(0);
    expect(killRecovery.runningRerunAndFinished).toBe(killRecovery.running);
    // Everything the killed workers held (also prefetched tasks) ends completed or failed.
    expect(killRecovery.stuck).toBe(0);
    expect(killRecovery.unfinished).toBe(0);
  });

  it('runs orphaned tasks again after the lease, not at some later sweep', () => {
    // Not optional: the test above guarantees re-runs, so there is a slowest one to bound. The bound
    // only tells a recovery from a missing one (the next chance would be a restart): on a quiet machine
    // the slowest is about lease + 2.5 s, on a loaded one it was seen at lease + 5.4 s. The figure
    // itself is reported by `npm run chaos` against lease + 5 s.
    expect(figures.killRecovery.maxMs).toBeLessThanOrEqual(LEASE_MS + 20_000);
  });
});
