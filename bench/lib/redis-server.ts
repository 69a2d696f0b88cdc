import Redis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, spawnWrapped, stopChild } from './processes';
import { freePort, waitFor } from './util';

/**
 * The benchmark's own redis-server on a free loopback port: no persistence (`--save ''`,
 * `--appendonly no`), `noeviction`, so the shared Redis on 6379 is never touched and every run starts
 * from an empty server (FLUSHALL is safe here: nobody else uses it).
 */
export class BenchRedis {
  readonly host = '127.0.0.1';
  admin!: Redis;
  version = '';
  private child?: Child;
  private readonly dir = mkdtempSync(join(tmpdir(), 'taskqueue-bench-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<BenchRedis> {
    const server = new BenchRedis(await freePort());
    // Through a small Node wrapper that kills redis-server when the benchmark dies, however it dies.
    server.child = await spawnWrapped('redis-server', 'redis-server', [
      '--port', String(server.port), '--bind', '127.0.0.1', '--dir', server.dir,
      '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no',
    ], {});
    await waitFor(async () => {
      if (server.child?.proc.exitCode !== null) throw new Error(`redis-server exited:\n${server.child?.output()}`);
      const probe = new Redis(server.port, server.host, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } finally {
        probe.disconnect();
      }
    }, `redis-server on port ${server.port}`, 10_000, 50);
    server.admin = new Redis(server.port, server.host, { connectionName: 'bench-admin' });
    server.admin.on('error', () => undefined);
    const info = await server.admin.info('server');
    server.version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return server;
  }

  /** The redis-server command line (for the report). */
  get commandLine(): string | undefined {
    return this.child?.commandLine;
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
    await stopChild(this.child, 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
