import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './service-process';
import { waitFor } from './wait';

/**
 * A private redis-server on a free loopback port, persisted with AOF in a temporary directory, so a
 * test can kill and restart "Redis" without touching the shared server.
 */
export class PrivateRedis {
  private child?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'taskqueue-redis-'));

  private constructor(
    readonly port: number,
    private readonly fsync: 'always' | 'everysec',
  ) {}

  static async start(fsync: 'always' | 'everysec' = 'always'): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort(), fsync);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
        '--appendonly', 'yes', '--appendfsync', this.fsync, '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG' ? true : undefined;
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on port ${this.port}` },
    );
  }

  /**
   * SIGSTOP: Redis keeps its connections and accepts new ones but answers nothing, like a server that
   * is paused or overloaded, until `resume`. Unlike `CLIENT PAUSE ... ALL`, which on Redis 7 blocks
   * `CLIENT UNPAUSE` too and so ends only when its timer does, the end comes exactly when the test says.
   */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL: a crash, not a shutdown. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
