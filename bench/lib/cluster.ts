import Redis from 'ioredis';
import { RedisCluster } from '../../tools/dev/redis-server';
import { QUEUE_PREFIX } from './ours';
import { benchChildren, commandLine } from './processes';
import { BenchRedis } from './redis-server';

/** One master of a Redis deployment the scaling section drains on, with an admin connection to it. */
export interface Master {
  /** `127.0.0.1:<port>` */
  name: string;
  admin: Redis;
}

/** A Redis deployment section 9 drains on: how our processes reach it, and its masters (for INFO cpu and FLUSHALL). */
export interface DrainTarget {
  label: string;
  /** The environment our processes get for it: REDIS_URL, or REDIS_CLUSTER_NODES. */
  env: Record<string, string>;
  masters: Master[];
}

/** FLUSHALL on every master. */
export async function flushTarget(target: DrainTarget): Promise<void> {
  await Promise.all(target.masters.map((m) => m.admin.flushall('SYNC')));
}

/** CPU time each master has used so far (user + system, ms), from INFO cpu, in the order of `masters`. */
export function mastersCpuMs(target: DrainTarget): Promise<number[]> {
  return Promise.all(
    target.masters.map(async (m) => {
      const info = await m.admin.info('cpu');
      const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? NaN);
      const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? NaN);
      return (sys + user) * 1000;
    }),
  );
}

/** The benchmark's own standalone redis-server as a drain target. */
export function standaloneTarget(redis: BenchRedis): DrainTarget {
  return { label: 'standalone redis-server', env: { REDIS_URL: redis.url }, masters: [{ name: `${redis.host}:${redis.port}`, admin: redis.admin }] };
}

/**
 * A private Redis Cluster of `masters` masters on loopback ports (tools/dev/redis-server RedisCluster:
 * cluster-enabled redis-servers without persistence, slots split evenly by `redis-cli --cluster
 * create`, no replicas), each under the wrapper that ends it with the benchmark. Our processes reach
 * it through REDIS_CLUSTER_NODES.
 */
export class BenchCluster implements DrainTarget {
  readonly label: string;
  readonly masters: Master[];

  private constructor(readonly cluster: RedisCluster) {
    this.label = `Redis Cluster, ${cluster.nodes.length} masters`;
    this.masters = cluster.nodes.map((n) => {
      const admin = new Redis(n.port, n.host, { connectionName: 'bench-admin' });
      admin.on('error', () => undefined);
      return { name: `${n.host}:${n.port}`, admin };
    });
  }

  static async start(masters = 3): Promise<BenchCluster> {
    return new BenchCluster(await RedisCluster.start(masters, { processes: benchChildren, diesWithParent: true }));
  }

  get env(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.cluster.seeds };
  }

  /** The command lines of the nodes (for the report). */
  get commandLines(): string[] {
    return this.cluster.nodes.map((n) => commandLine({}, 'redis-server', n.args));
  }

  /** The slot of a queue's keys (CLUSTER KEYSLOT of its ready zset, `<prefix>:{<queue>}:queue`) and the master serving it now. */
  async placement(queue: string): Promise<{ slot: number; master: number }> {
    const slot = await this.cluster.slotOf(`${QUEUE_PREFIX}:{${queue}}:queue`);
    const node = await this.cluster.nodeOfSlot(slot);
    return { slot, master: this.cluster.nodes.indexOf(node) };
  }

  /**
   * `count` queue names whose hash tags land on different masters: `default` (which a worker serving
   * every queue always serves) first, then the first names of `candidates` on a master not yet used.
   */
  async spreadQueues(count: number, candidates = SPREAD_CANDIDATES): Promise<{ name: string; slot: number; master: number }[]> {
    const picked: { name: string; slot: number; master: number }[] = [];
    for (const name of ['default', ...candidates]) {
      if (picked.length === count) break;
      const where = await this.placement(name);
      if (!picked.some((p) => p.master === where.master)) picked.push({ name, ...where });
    }
    if (picked.length < count) throw new Error(`no ${count} queue names on different masters among ${candidates.join(', ')}`);
    return picked;
  }

  async stop(): Promise<void> {
    for (const m of this.masters) m.admin.disconnect();
    await this.cluster.stop();
  }
}

const SPREAD_CANDIDATES = ['emails', 'reports', 'images', 'billing', 'exports', 'alerts', 'search', 'thumbs', 'webhooks', 'imports'];
