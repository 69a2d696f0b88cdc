import type { PinoLogger } from 'nestjs-pino';
import { loadAppConfig } from '../config/app-config';
import type { QueueRepository, RecoveryOutcome } from '../queue/queue.repository';
import { MAX_STALLS } from '../queue/task-limits';
import { LEASE_EXPIRED_ERROR, MAX_BATCHES_PER_TICK, MaintenanceService, PURGE_BATCH, RECOVER_BATCH } from './maintenance.service';
import { RecordingLogger } from './testing/fakes';

/** A repository whose recover/purge calls answer from a script of batch sizes. */
function maintenance(recoverSizes: number[], purgeSizes: number[]) {
  const calls = { recover: [] as unknown[][], purge: [] as unknown[][] };
  const queue = {
    recoverExpired: (...args: unknown[]) => {
      calls.recover.push(args);
      const n = recoverSizes.shift() ?? 0;
      return Promise.resolve(
        Array.from({ length: n }, (_, i): RecoveryOutcome => ({ id: `t${i}`, outcome: (['retry', 'failed', 'stalled', 'dropped'] as const)[i % 4], retries: 1 })),
      );
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
      recoverExpired: (_l: number, _e: string, _d: number[], _m: number, name: string) => {
        recovered.push(name);
        return name === 'a' ? Promise.reject(new Error('a is broken')) : Promise.resolve([]);
      },
      purgeExpired: () => Promise.resolve(0),
    };
    const service = new MaintenanceService(queue as unknown as QueueRepository, { delayMs: () => 10 }, loadAppConfig({}), t.logger as unknown as PinoLogger);
    await expect(service.recoverExpiredLeases()).rejects.toThrow('a is broken');
    expect(recovered).toEqual(['a', 'b', 'default']);
  });
});
