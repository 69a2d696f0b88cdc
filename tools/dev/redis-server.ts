import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildHandle, defaultProcesses, ProcessSet } from './child-process';
import { freePort } from './ports';
import { delay } from './wait';

/** AOF with this `appendfsync`, or `none`: no persistence at all (`--save ''`, `--appendonly no`). */
export type RedisPersistence = 'always' | 'everysec' | 'none';

export interface RedisServerOptions {
  persistence: RedisPersistence;
  /** Default: a free loopback port. */
  port?: number;
  /** Data directory (the AOF lives here, so a restart finds it). Default: a new temporary directory, removed by `destroy`. */
  dir?: string;
  /** Every line redis-server prints is appended here (default: only kept in memory for error messages). */
  logFile?: string;
  /** The set that owns the process (its cleanup ends it). Default: one that ends it when this process exits. */
  processes?: ProcessSet;
  /** Runs redis-server under a wrapper that kills it when this process dies, even by SIGKILL (see SpawnSpec). */
  diesWithParent?: boolean;
}

const HOST = '127.0.0.1';

/**
 * The one launcher of private redis-servers for tests, benchmarks and scripts: a redis-server on a
 * loopback port of its own, so a test can crash, freeze and restart "Redis" (or a benchmark flush it)
 * without touching the shared server on 6379. `noeviction`, as production should run.
 */
export class RedisServer {
  readonly host = HOST;
  private proc?: ChildHandle;
  private generation = 0;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: RedisServerOptions,
  ) {}

  /** A new server, started and answering PING (with its AOF loaded). */
  static async start(options: RedisServerOptions, timeoutMs = 20_000): Promise<RedisServer> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'taskqueue-redis-'));
    const server = new RedisServer(options.port ?? (await freePort()), dir, options.dir === undefined, options);
    try {
      await server.restart(timeoutMs);
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc?.alive ?? false;
  }

  /** The arguments redis-server runs with (for reports). */
  get args(): string[] {
    const persistence =
      this.options.persistence === 'none'
        ? ['--appendonly', 'no']
        : ['--appendonly', 'yes', '--appendfsync', this.options.persistence];
    return [
      '--port', String(this.port),
      '--bind', HOST,
      '--protected-mode', 'yes',
      '--dir', this.dir,
      '--save', '',
      ...persistence,
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
    ];
  }

  /** Starts redis-server (again, after `kill`: same port, same directory, same AOF) and waits until it answers. */
  async restart(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is already running`);
    this.generation += 1;
    const proc = (this.options.processes ?? defaultProcesses).spawn(`redis-${this.port}-${this.generation}`, {
      command: 'redis-server',
      args: this.args,
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '' },
      logFile: this.options.logFile,
      diesWithParent: this.options.diesWithParent,
    });
    this.proc = proc;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!proc.alive) {
        await proc.closed;
        throw new Error(`redis-server on port ${this.port} exited at start (${JSON.stringify(proc.exit)}):\n${proc.output()}`);
      }
      if (await redisPing(this.port)) return;
      await delay(25);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms:\n${proc.output()}`);
  }

  /** SIGKILL: a crash, not a shutdown (what the AOF has is what a restart finds). */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /**
   * SIGSTOP: Redis keeps its connections and accepts new ones but answers nothing, like a server that
   * is paused or overloaded, until `resume`. Unlike `CLIENT PAUSE ... ALL`, which on Redis 7 blocks
   * `CLIENT UNPAUSE` too and so ends only when its timer does, the end comes exactly when the caller says.
   */
  freeze(): void {
    this.proc?.freeze();
  }

  resume(): void {
    this.proc?.resume();
  }

  /** Kills the server and removes its directory when this launcher made it. */
  async destroy(): Promise<void> {
    await this.kill();
    this.removeDir();
  }

  /** A clean shutdown (SIGTERM, SIGKILL after `graceMs`), then removes its directory when this launcher made it. */
  async stop(graceMs = 5000): Promise<void> {
    await this.proc?.stop(graceMs);
    this.removeDir();
  }

  private removeDir(): void {
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One PING over a raw socket: true on +PONG, false on anything else (refused, -LOADING, timeout). */
export function redisPing(port: number, timeoutMs = 500, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}
