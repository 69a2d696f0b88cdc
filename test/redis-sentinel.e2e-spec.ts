import request from 'supertest';
import { redisCli, RedisSentinelGroup } from '../tools/dev/redis-server';
import { createTestApp, TestApp } from './support/test-app';
import { LONG, sized } from './support/long';
import { delay, waitFor } from './support/wait';

interface FailoverFigures {
  /** Tasks answered 201. */
  acknowledged: number;
  /** Of those, gone after the failover (GET 404): asynchronous replication's loss. */
  lost: number;
  /** Submits answered 503 while the primary changed. */
  refused: number;
  /** Tasks answered 201 once the old primary was a replica (every one of them completed). */
  afterDemotion: number;
}

const roleOf = async (port: number) => /role:(\w+)/.exec(await redisCli(port, ['info', 'replication']))?.[1];

/** Four clients submitting echo tasks in a loop, counting 201s and 503s (anything else fails the test). */
class SubmitLoad {
  readonly acknowledged: string[] = [];
  refused = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly t: TestApp) {
    this.loops = [0, 1, 2, 3].map(() => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const res = await request(this.t.http).post('/tasks').send({ type: 'echo', payload: 'x' });
      if (res.status === 201) this.acknowledged.push(res.body.id as string);
      else {
        expect(res.status).toBe(503);
        this.refused += 1;
        await delay(20);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Waits until every acknowledged task completed or is gone; those acknowledged from `mustKeepFrom` on must complete. */
  async figures(mustKeepFrom: number): Promise<FailoverFigures> {
    let lost = 0;
    await waitFor(
      async () => {
        lost = 0;
        for (const [i, id] of this.acknowledged.entries()) {
          const res = await request(this.t.http).get(`/tasks/${id}`);
          if (res.status === 404 && i >= mustKeepFrom) throw new Error(`task ${id}, acknowledged by the new primary, is gone`);
          if (res.status === 404) lost += 1;
          else if (res.body.status !== 'completed') return undefined;
        }
        return true;
      },
      { what: 'every acknowledged task to complete or be found lost', timeoutMs: 20_000 },
    );
    return { acknowledged: this.acknowledged.length, lost, refused: this.refused, afterDemotion: this.acknowledged.length - mustKeepFrom };
  }
}

/**
 * The service behind Redis Sentinel (a primary, a replica, three sentinels on loopback): under a load
 * of submits, `SENTINEL FAILOVER` promotes the replica; the service follows the sentinels to the new
 * primary and keeps accepting and finishing tasks. With REDIS_WAIT_REPLICAS=1 the service answers 201
 * only for tasks a replica holds, so none of those is lost (the others were answered 503). Under
 * `npm run test:long` a second service without WAIT shares the failover: what the old primary
 * acknowledged but had not passed on is lost there (Redis' documented limit of asynchronous replication).
 */
describe('Redis Sentinel failover', () => {
  let group: RedisSentinelGroup;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    group = await RedisSentinelGroup.start('everysec');
  }, 30_000);

  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await group?.stop();
  });

  const service = async (prefix: string, env: Record<string, string> = {}) => {
    const t = await createTestApp({
      REDIS_URL: '',
      REDIS_SENTINELS: group.sentinelAddresses,
      REDIS_SENTINEL_NAME: group.name,
      QUEUE_PREFIX: prefix,
      WORKER_COUNT: '4',
      TASK_LEASE_MS: '3000',
      ...env,
    });
    apps.push(t);
    return t;
  };

  /**
   * `npm run test:long`: both services, 100 tasks acknowledged before and after the failover each.
   * `npm test`: the service with WAIT alone (the guarantee: no acknowledged task lost), 30 and 30.
   */
  const variants: { prefix: string; env: Record<string, string>; label: string; mayLose: boolean }[] = [
    ...(LONG ? [{ prefix: 'sentinel-async', env: {}, label: 'without WAIT', mayLose: true }] : []),
    { prefix: 'sentinel-wait', env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '500' }, label: 'with REDIS_WAIT_REPLICAS=1', mayLose: false },
  ];
  const EACH_SIDE = sized(30, 100);

  it(`keeps accepting and finishing tasks across SENTINEL FAILOVER (${variants.map((v) => v.label).join(', ')}); with REDIS_WAIT_REPLICAS=1 no acknowledged task is lost`, async () => {
    const loads: SubmitLoad[] = [];
    for (const v of variants) loads.push(new SubmitLoad(await service(v.prefix, v.env)));
    await waitFor(() => (loads.every((l) => l.acknowledged.length >= EACH_SIDE) ? true : undefined), { what: 'the load to run' });

    const before = await group.primaryPort();
    expect(await redisCli(group.sentinels[0].port, ['sentinel', 'failover', group.name])).toBe('OK\n');
    await waitFor(async () => ((await group.primaryPort()) !== before ? true : undefined), { what: 'the sentinels to name the new primary' });
    // The sentinels turn the old primary into a replica at their next INFO round (up to 10 s): until
    // then it accepts writes from clients that still use it, and loses them when it resyncs.
    await waitFor(async () => ((await roleOf(before)) === 'slave' ? true : undefined), { what: 'the old primary to be demoted', timeoutMs: 20_000 });
    const from = loads.map((l) => l.acknowledged.length);
    await waitFor(
      () => (loads.every((l, i) => l.acknowledged.length >= from[i] + EACH_SIDE) ? true : undefined),
      { what: 'submits accepted by the new primary', timeoutMs: 20_000 },
    );
    await Promise.all(loads.map((l) => l.stop()));

    const figures: FailoverFigures[] = [];
    for (const [i, l] of loads.entries()) figures.push(await l.figures(from[i]));
    console.info(`SENTINEL FAILOVER under load: ${variants.map((v, i) => `${v.label} ${JSON.stringify(figures[i])}`).join('; ')}`);
    for (const [i, v] of variants.entries()) {
      // Without WAIT some of the acknowledged tasks may be lost, never all; with WAIT none.
      expect(figures[i].lost).toBeLessThanOrEqual(v.mayLose ? figures[i].acknowledged - 1 : 0);
    }
  }, 45_000);
});
