import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { redisPing, sleep, within } from './util';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Every line of stdout and stderr is appended here. */
  logFile: string;
  /** Called with every output line (stdout and stderr), in order per stream. */
  onLine?: (line: string) => void;
}

/**
 * A child process whose output is always drained (a full pipe would block it) into a log file.
 * `closed` resolves once the process has exited and its output has been read to the end.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly closed: Promise<ExitInfo>;
  exit?: ExitInfo;
  frozen = false;

  constructor(
    readonly name: string,
    spec: SpawnSpec,
  ) {
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const streamsDone: Promise<void>[] = [];
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        log.write(`${line}\n`);
        spec.onLine?.(line);
      });
      streamsDone.push(new Promise((resolve) => lines.once('close', () => resolve())));
    }
    this.closed = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo) => {
        if (this.exit) return;
        this.exit = info;
        // The readline interfaces close after the last line is delivered.
        void within(Promise.all(streamsDone), 2000).then(() => {
          log.end();
          resolve(info);
        });
      };
      this.child.once('close', (code, signal) => finish({ code, signal }));
      this.child.once('error', () => finish({ code: -1, signal: null }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): boolean {
    if (!this.alive) return false;
    try {
      return this.child.kill(sig);
    } catch {
      return false;
    }
  }
}

/** Every process a run started, so that cleanup (also on Ctrl-C or errors) can end exactly those. */
export class ProcessRegistry {
  private readonly all: ManagedProcess[] = [];

  spawn(name: string, spec: SpawnSpec): ManagedProcess {
    const proc = new ManagedProcess(name, spec);
    this.all.push(proc);
    return proc;
  }

  /** SIGKILLs every live process of this run (a stopped one is continued first) and waits for them. */
  async killAll(timeoutMs = 5000): Promise<void> {
    const live = this.all.filter((p) => p.alive);
    for (const p of live) {
      if (p.frozen) p.signal('SIGCONT');
      p.signal('SIGKILL');
    }
    await within(Promise.all(live.map((p) => p.closed)), timeoutMs);
  }

  /** Last resort for process 'exit' handlers: synchronous, by pid, only our own children. */
  killAllSync(): void {
    for (const p of this.all) {
      if (!p.alive || p.pid === undefined) continue;
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export type FsyncMode = 'everysec' | 'always';

/** A private redis-server on a loopback port, AOF on, restartable on the same AOF (same dir). */
export class RedisServer {
  proc?: ManagedProcess;
  private generation = 0;

  constructor(
    private readonly registry: ProcessRegistry,
    readonly port: number,
    readonly dir: string,
    readonly fsync: FsyncMode,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    this.generation += 1;
    this.proc = this.registry.spawn(`redis-${this.generation}`, {
      command: 'redis-server',
      args: [
        '--port', String(this.port),
        '--bind', '127.0.0.1',
        '--protected-mode', 'yes',
        '--dir', this.dir,
        '--save', '',
        '--appendonly', 'yes',
        '--appendfsync', this.fsync,
        '--maxmemory-policy', 'noeviction',
        '--daemonize', 'no',
      ],
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '' },
      logFile: join(this.dir, 'redis.log'),
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.proc.alive) throw new Error(`redis-server exited at start (see ${join(this.dir, 'redis.log')})`);
      if (await redisPing(this.port)) return;
      await sleep(25);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms`);
  }

  /** SIGKILL: a crash, not a shutdown. */
  async crash(): Promise<void> {
    const proc = this.proc;
    if (!proc || !proc.alive) return;
    proc.signal('SIGKILL');
    await within(proc.closed, 5000);
  }
}
