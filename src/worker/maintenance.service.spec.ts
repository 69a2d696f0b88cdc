import type { PinoLogger } from 'nestjs-pino';
import { loadAppConfig } from '../config/app-config';
import type { QueueRepository, Recovery, RecoveryOutcome } from '../queue/queue.repository';
import { MAX_STALLS } from '../queue/task-limits';
import { LEASE_EXPIRED_ERROR, MAX_BATCHES_PER_TICK, MaintenanceService, PURGE_BATCH, RECOVER_BATCH, RECOVER_IDLE_MAX_MS, RECOVER_SLACK_MS } from './maintenance.service';
import { RecordingLogger } from './testing/fakes';

/** A repository whose recover/purge calls answer from a script of batch sizes. */
function maintenance(recoverSizes: number[], purgeSizes: number[], nextDeadlineInMs?: number) {
  const calls = { recover: [] as unknown[][], purge: [] as unknown[][] };
  const queue = {
    recoverDue: (...args: unknown[]): Promise<Recovery> => {
      calls.recover.push(args);
      const n = recoverSizes.shift() ?? 0;
      const outcomes = Array.from(
        { length: n },
        (_, i): RecoveryOutcome => ({ id: `t${i}`, outcome: (['retry', 'failed', 'stalled', 'dropped'] as const)[i % 4], retries: 1 }),
      );
      return Promise.resolve({ outcomes, nextDeadlineInMs });
    },
    purgeExpired: (...args: unknown[]) => {
      calls.purge.push(args);
      return Promise.resolve(purgeSizes.shift() ?? 0);
    },
    queueNames: () => Promise.resolve(['default']),
  };
  const logger = new RecordingLogger();
  const config = loadAppConfig({ TASK_RETENTION_S: '60' });
  const service = new MaintenanceService(queue as unknown as QueueRepository, { delayMs: (n) => 10 * (n + 1) }, config, logger as unknown as PinoLogger);
  return { service, calls, logger };
}

describe('MaintenanceService', () => {
  it('recovers in batches until a batch is short, with the strategy delays and the stall cap', async () => {
    const t = maintenance([RECOVER_BATCH, RECOVER_BATCH, 3], []);
    await t.service.recoverExpiredLeases();
    expect(t.calls.recover).toHaveLength(3);
    const [limit, error, delays, maxStalls] = t.calls.recover[0] as [number, string, number[], number];
    expect({ limit, error, maxStalls }).toEqual({ limit: RECOVER_BATCH, error: LEASE_EXPIRED_ERROR, maxStalls: MAX_STALLS });
    expect(delays.slice(0, 3)).toEqual([10, 20, 30]);
  });

  it('stops after MAX_BATCHES_PER_TICK full batches, so one tick never monopolises Redis', async () => {
    const t = maintenance(Array(MAX_BATCHES_PER_TICK + 5).fill(RECOVER_BATCH), Array(MAX_BATCHES_PER_TICK + 5).fill(PURGE_BATCH));
    await t.service.recoverExpiredLeases();
    await t.service.purgeExpiredTasks();
    expect(t.calls.recover).toHaveLength(MAX_BATCHES_PER_TICK);
    expect(t.calls.purge).toHaveLength(MAX_BATCHES_PER_TICK);
  });

  describe('sleeps until the next lease held may expire', () => {
    /** The delay a tick asks for when each queue's next lease expires after the given ms (undefined: none held). */
    async function delayFor(nextByQueue: Record<string, number | undefined>, env: Record<string, string> = {}): Promise<number> {
      const queue = {
        queueNames: () => Promise.resolve(Object.keys(nextByQueue)),
        recoverDue: (_l: number, _e: string, _d: number[], _m: number, name: string): Promise<Recovery> =>
          Promise.resolve({ outcomes: [], nextDeadlineInMs: nextByQueue[name] }),
        purgeExpired: () => Promise.resolve(0),
      };
      const logger = new RecordingLogger() as unknown as PinoLogger;
      return new MaintenanceService(queue as unknown as QueueRepository, { delayMs: () => 10 }, loadAppConfig(env), logger).recoverExpiredLeases();
    }

    it('no lease held anywhere: the idle delay, under half a lease', async () => {
      expect(await delayFor({ default: undefined, a: undefined })).toBe(RECOVER_IDLE_MAX_MS);
      expect(await delayFor({ default: undefined }, { TASK_LEASE_MS: '4000' })).toBe(2000);
    });

    it('the earliest deadline of any queue, just after it', async () => {
      expect(await delayFor({ default: 3000, a: 1200, b: undefined })).toBe(1200 + RECOVER_SLACK_MS);
      expect(await delayFor({ default: 60_000 })).toBe(RECOVER_IDLE_MAX_MS);
    });

    it('expired leases left over (more than a tick takes): again after the retry interval', async () => {
      expect(await delayFor({ default: 0, a: 4000 })).toBe(1000);
      expect(await delayFor({ default: -50 })).toBe(1000);
    });
  });

  it('logs each recovered lease by outcome; dropped entries are not news', async () => {
    const t = maintenance([4], []);
    await t.service.recoverExpiredLeases();
    expect(t.logger.lines.map((l) => [l.level, l.msg, l.fields.task_id])).toEqual([
      ['warn', 'lease expired; task will be retried', 't0'],
      ['warn', 'lease expired; task failed permanently', 't1'],
      ['warn', 'lease expired before the task started; task requeued', 't2'],
    ]);
  });

  it('purges by retention in ms, until a batch is short', async () => {
    const t = maintenance([], [PURGE_BATCH, 7]);
    await t.service.purgeExpiredTasks();
    expect(t.calls.purge).toEqual([
      [60_000, PURGE_BATCH, 'default'],
      [60_000, PURGE_BATCH, 'default'],
    ]);
  });

  it('covers every registered queue, and a failure in one queue does not skip the others', async () => {
    const t = maintenance([], []);
    const recovered: string[] = [];
    const queue = {
      queueNames: () => Promise.resolve(['a', 'b', 'default']),
      recoverDue: (_l: number, _e: string, _d: number[], _m: number, name: string) => {
        recovered.push(name);
        return name === 'a' ? Promise.reject(new Error('a is broken')) : Promise.resolve({ outcomes: [] });
      },
      purgeExpired: () => Promise.resolve(0),
    };
    const service = new MaintenanceService(queue as unknown as QueueRepository, { delayMs: () => 10 }, loadAppConfig({}), t.logger as unknown as PinoLogger);
    await expect(service.recoverExpiredLeases()).rejects.toThrow('a is broken');
    expect(recovered).toEqual(['a', 'b', 'default']);
  });
});
