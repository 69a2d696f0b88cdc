import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { within } from './wait';

/**
 * The one child-process helper of tests, benchmarks and scripts: a child whose output is always
 * drained (a full pipe would block it), kept for error messages and optionally logged, and a set of
 * children that can all be ended at once, also from a process 'exit' handler.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd?: string;
  /** The child's whole environment: nothing is inherited that is not passed here. */
  env: NodeJS.ProcessEnv;
  /** Every line of stdout and stderr is appended to this file. */
  logFile?: string;
  /** Called with every output line (stdout and stderr), in order per stream. */
  onLine?: (line: string) => void;
  /** How much of stdout + stderr `output()` keeps, in characters (the last ones); default 64 KiB. */
  keepOutput?: number;
  /** Opens an IPC channel (the child can `process.send`). */
  ipc?: boolean;
  /**
   * Runs the command under a small Node wrapper that kills it when this process goes away, however
   * (even by SIGKILL: the wrapper's IPC channel closes). The command itself runs exactly as given, with
   * no IPC channel and nothing preloaded; SIGTERM and SIGINT reach it through the wrapper, SIGKILL,
   * SIGSTOP and SIGCONT are sent to it directly. `commandPid` is its pid.
   */
  diesWithParent?: boolean;
}

const DEFAULT_KEEP = 64 * 1024;

/** The wrapper of `diesWithParent`, run with `node -e` (no file to find, also from a compiled copy). */
const WITH_PARENT = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const child = spawn(command, args, { stdio: 'inherit' });
process.send({ type: 'pid', pid: child.pid });
process.on('disconnect', () => { child.kill('SIGKILL'); process.exit(1); });
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => child.kill('SIGTERM'));
child.on('error', () => process.exit(127));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`;
/** After the exit, how long the last output may take to be read before `closed` resolves anyway. */
const DRAIN_MS = 2000;

export class ChildHandle {
  readonly child: ChildProcess;
  /** Resolves once the process has exited (or could not be started: code -1). */
  readonly exited: Promise<ExitInfo>;
  /** Resolves once the process has exited and its output has been read to the end (log file written). */
  readonly closed: Promise<ExitInfo>;
  exit?: ExitInfo;
  /** Set by freeze/resume (and by callers that send SIGSTOP/SIGCONT themselves). */
  frozen = false;
  /** The pid of the command itself: the child's, or with `diesWithParent` the one its wrapper reports (undefined if it never started). */
  readonly commandPid: Promise<number | undefined>;
  /** Runs under the `diesWithParent` wrapper (`child` is the wrapper). */
  readonly wrapped: boolean;
  private wrappedPid?: number;
  private out = '';
  private readonly keep: number;

  constructor(
    readonly name: string,
    spec: SpawnSpec,
  ) {
    this.keep = spec.keepOutput ?? DEFAULT_KEEP;
    this.wrapped = spec.diesWithParent === true;
    const [command, args] = this.wrapped ? [process.execPath, ['-e', WITH_PARENT, '--', spec.command, ...spec.args]] : [spec.command, spec.args];
    this.child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: spec.ipc || this.wrapped ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    const log = spec.logFile ? createWriteStream(spec.logFile, { flags: 'a' }) : undefined;
    const streamsDone: Promise<void>[] = [];
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      stream.on('data', (d: Buffer) => this.append(d.toString()));
      if (!log && !spec.onLine) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        log?.write(`${line}\n`);
        spec.onLine?.(line);
      });
      streamsDone.push(new Promise((resolve) => lines.once('close', () => resolve())));
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo) => {
        if (this.exit) return;
        this.exit = info;
        resolve(info);
      };
      this.child.once('exit', (code, signal) => finish({ code, signal }));
      this.child.once('error', () => finish({ code: -1, signal: null }));
    });
    this.closed = new Promise<ExitInfo>((resolve) => {
      let done = false;
      const finish = (info: ExitInfo) => {
        if (done) return;
        done = true;
        // The readline interfaces close after the last line is delivered.
        void within(Promise.all(streamsDone), DRAIN_MS).then(() => {
          log?.end();
          resolve(info);
        });
      };
      this.child.once('close', (code, signal) => finish({ code, signal }));
      this.child.once('error', () => finish({ code: -1, signal: null }));
    });
    this.commandPid = !this.wrapped
      ? Promise.resolve(this.child.pid)
      : new Promise((resolve) => {
          const onMessage = (msg: unknown) => {
            const m = msg as { type?: string; pid?: number } | undefined;
            if (m?.type !== 'pid' || typeof m.pid !== 'number') return;
            this.wrappedPid = m.pid;
            this.child.off('message', onMessage);
            resolve(m.pid);
          };
          this.child.on('message', onMessage);
          void this.exited.then(() => resolve(this.wrappedPid));
        });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The output kept so far (stdout and stderr as they arrived; the last `keepOutput` characters). */
  output(): string {
    if (this.keep <= 0) return '';
    return this.out.length > this.keep ? this.out.slice(-this.keep) : this.out;
  }

  /** Sends a signal if the process is alive; false when it is not (or the signal failed). */
  signal(sig: NodeJS.Signals): boolean {
    if (!this.alive) return false;
    try {
      // A wrapper passes SIGTERM/SIGINT on; the others must reach the command itself (a SIGKILLed
      // wrapper could no longer kill it).
      if (this.wrapped && this.wrappedPid !== undefined && sig !== 'SIGTERM' && sig !== 'SIGINT') {
        process.kill(this.wrappedPid, sig);
        if (sig !== 'SIGKILL') return true;
      }
      return this.child.kill(sig);
    } catch {
      return false;
    }
  }

  /** SIGSTOP: the process keeps its sockets but runs nothing until `resume`. */
  freeze(): void {
    if (this.signal('SIGSTOP')) this.frozen = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.frozen = false;
  }

  /** SIGKILL (a stopped process is continued first), then waits for `closed` at most `timeoutMs`. */
  async kill(timeoutMs = 5000): Promise<ExitInfo | undefined> {
    if (this.frozen) this.resume();
    this.signal('SIGKILL');
    return within(this.closed, timeoutMs);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000): Promise<ExitInfo> {
    if (this.frozen) this.resume();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private append(text: string): void {
    if (this.keep <= 0) return;
    this.out += text;
    // Trim now and then, not on every chunk: keep at most twice what is asked for.
    if (this.out.length > this.keep * 2) this.out = this.out.slice(-this.keep);
  }
}

/** Every child a run started, so that cleanup (also on errors, Ctrl-C or exit) ends exactly those. */
export class ProcessSet {
  private readonly all = new Set<ChildHandle>();
  private exitHookInstalled = false;

  spawn(name: string, spec: SpawnSpec): ChildHandle {
    const child = new ChildHandle(name, spec);
    this.all.add(child);
    void child.exited.then(() => this.all.delete(child));
    return child;
  }

  /** The children still running. */
  live(): ChildHandle[] {
    return [...this.all].filter((c) => c.alive);
  }

  /** SIGKILLs every live child (a stopped one is continued first) and waits for them. */
  async killAll(timeoutMs = 5000): Promise<void> {
    await Promise.all(this.live().map((c) => c.kill(timeoutMs)));
  }

  /** Last resort for process 'exit' handlers: synchronous, only our own children. */
  killAllSync(): void {
    for (const c of this.live()) {
      if (c.frozen) c.signal('SIGCONT');
      c.signal('SIGKILL');
    }
  }

  /** Kills what is still running when this process exits, however it exits normally or by an error. */
  killOnExit(): this {
    if (!this.exitHookInstalled) {
      this.exitHookInstalled = true;
      process.on('exit', () => this.killAllSync());
    }
    return this;
  }
}

/** The set used when a caller does not bring its own: what it holds is killed when this process exits. */
export const defaultProcesses = new ProcessSet().killOnExit();

export function spawnChild(name: string, spec: SpawnSpec): ChildHandle {
  return defaultProcesses.spawn(name, spec);
}
