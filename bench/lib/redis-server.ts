import Redis from 'ioredis';
import { RedisServer } from '../../tools/dev/redis-server';
import { benchChildren, commandLine } from './processes';

/**
 * The benchmark's own redis-server (the shared launcher, tools/dev/redis-server) on a free loopback
 * port: no persistence (`--save ''`, `--appendonly no`), `noeviction`, so the shared Redis on 6379 is
 * never touched and every run starts from an empty server (FLUSHALL is safe here: nobody else uses
 * it). Plus the admin connection and the INFO figures the benchmark reads.
 */
export class BenchRedis {
  readonly host = '127.0.0.1';
  admin!: Redis;
  version = '';

  private constructor(private readonly server: RedisServer) {}

  /** `port`: default a free one. */
  static async start(port?: number): Promise<BenchRedis> {
    // Under a small wrapper that kills redis-server when the benchmark dies, however it dies.
    const bench = new BenchRedis(await RedisServer.start({ persistence: 'none', port, diesWithParent: true, processes: benchChildren }));
    bench.admin = new Redis(bench.port, bench.host, { connectionName: 'bench-admin' });
    bench.admin.on('error', () => undefined);
    const info = await bench.admin.info('server');
    bench.version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return bench;
  }

  get port(): number {
    return this.server.port;
  }

  /** The redis-server command line (for the report). */
  get commandLine(): string {
    return commandLine({}, 'redis-server', this.server.args);
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  /** A new client to this server (caller closes it). */
  client(name: string): Redis {
    return new Redis(this.port, this.host, { connectionName: name, maxRetriesPerRequest: null });
  }

  async flush(): Promise<void> {
    await this.admin.flushall('SYNC');
  }

  /** INFO memory used_memory, in bytes. */
  async usedMemory(): Promise<number> {
    const info = await this.admin.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  }

  /** CPU time Redis has used so far (user + system, ms), from INFO cpu. */
  async cpuMs(): Promise<number> {
    const info = await this.admin.info('cpu');
    const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? NaN);
    const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? NaN);
    return (sys + user) * 1000;
  }

  async resetStats(): Promise<void> {
    await this.admin.config('RESETSTAT');
  }

  /** INFO commandstats as { command: calls }. */
  async commandStats(): Promise<Record<string, number>> {
    const info = await this.admin.info('commandstats');
    const out: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
    return out;
  }

  async clientCount(): Promise<number> {
    const info = await this.admin.info('clients');
    return Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? NaN);
  }

  async stop(): Promise<void> {
    this.admin?.disconnect();
    await this.server.stop(5000);
  }
}
