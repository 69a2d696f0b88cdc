import { ChildProcess, spawn } from 'node:child_process';
import { join, relative } from 'node:path';
import { ROOT, waitFor } from './util';

/**
 * Child processes of the benchmark: every one is registered here and killed when the benchmark
 * exits, however it exits (normal end, error, Ctrl-C).
 */
const live = new Set<ChildProcess>();
/** Wrappers (run-with-parent.js) get SIGTERM, which they pass on; SIGKILL would orphan what they run. */
const wrappers = new WeakSet<ChildProcess>();
let cleanupInstalled = false;

export interface Child {
  name: string;
  /** The process the benchmark spawned: the measured process itself, or its run-with-parent.js wrapper. */
  proc: ChildProcess;
  /** Pid of the measured process (its CPU time is read from /proc/<pid>/stat). */
  pid: number | undefined;
  /** The measured process's command line as a shell would run it (environment set for it, then the command). */
  commandLine: string;
  /** The last 64 KiB of stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code or signal name once the process has exited. */
  exited: Promise<number | string>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Node options placed before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  args?: string[];
}

const TAIL = 64 * 1024;

const RUN_WITH_PARENT = join(ROOT, 'bench', 'procs', 'run-with-parent.js');

/**
 * `node [nodeArgs] script [args]`, with an IPC channel: the script reports readiness with
 * process.send and exits on 'disconnect' itself (every script of bench/procs and bench/reference-app
 * does), so nothing is preloaded into it.
 */
export function spawnNode(name: string, script: string, opts: SpawnOptions): Child {
  const args = [...(opts.nodeArgs ?? []), script, ...(opts.args ?? [])];
  const child = spawnProcess(name, process.execPath, args, opts.env, true);
  return { ...child, commandLine: commandLine(opts.env, 'node', args) };
}

/**
 * A command we cannot change (our service's main.js, redis-server) run through
 * bench/procs/run-with-parent.js, which ends it with the benchmark however the benchmark ends: the
 * measured process is exactly `command args`, with no IPC channel and nothing preloaded. Resolves once
 * the wrapper has reported the pid of the command.
 */
export async function spawnWrapped(name: string, command: string, args: string[], env: Record<string, string>): Promise<Child> {
  const wrapper = spawnProcess(name, process.execPath, [RUN_WITH_PARENT, command, ...args], env, true);
  wrappers.add(wrapper.proc);
  const pid = await new Promise<number>((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      const m = msg as { type?: string; pid?: number } | undefined;
      if (m?.type === 'pid' && typeof m.pid === 'number') {
        wrapper.proc.off('exit', onExit);
        resolve(m.pid);
      }
    };
    const onExit = () => reject(new Error(`${name} exited at once:\n${wrapper.output()}`));
    wrapper.proc.once('message', onMessage);
    wrapper.proc.once('exit', onExit);
  });
  const shown = command === process.execPath ? 'node' : command;
  return { ...wrapper, pid, commandLine: commandLine(env, shown, args) };
}

/** `A=1 B=2 command args`, paths inside the repository shown relative to it (the working directory). */
export function commandLine(env: Record<string, string>, command: string, args: string[]): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const rel = (s: string) => (s.startsWith(`${ROOT}/`) ? relative(ROOT, s) : s);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
  return [...vars, command, ...args.map((a) => quote(rel(a)))].join(' ');
}

function spawnProcess(name: string, command: string, args: string[], env: Record<string, string>, ipc = false): Omit<Child, 'commandLine'> {
  installCleanup();
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > TAIL * 2) out = out.slice(-TAIL);
  };
  proc.stdout?.on('data', append);
  proc.stderr?.on('data', append);
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return { name, proc, pid: proc.pid, output: () => out.slice(-TAIL), exited };
}

/** Runs a command to its end; resolves with its stdout (fails on a non-zero exit, with its output). */
export async function runToEnd(name: string, command: string, args: string[], env: Record<string, string>): Promise<string> {
  const child = spawnProcess(name, command, args, env);
  let stdout = '';
  child.proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await child.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${child.output()}`);
  return stdout;
}

/** Waits for the child's `{ type: 'ready' }` IPC message (or fails when it exits first). */
export function whenReady(child: Child, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output()}`));
    }, timeoutMs);
    const onMessage = (msg: unknown) => {
      if ((msg as { type?: string } | undefined)?.type === 'ready') {
        cleanup();
        resolve();
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${child.name} exited before it was ready:\n${child.output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      child.proc.off('exit', onExit);
    };
    child.proc.on('message', onMessage);
    child.proc.on('exit', onExit);
  });
}

/** Polls an HTTP URL until it answers 2xx (or the child exits). */
export async function whenHttpReady(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
        throw new Error(`${child.name} exited:\n${child.output()}`);
      }
      const res = await fetch(url).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    `${child.name} at ${url}`,
    timeoutMs,
    50,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${child.output()}`);
  });
}

/** SIGTERM, then SIGKILL (of the measured process too, when wrapped) if it has not exited after `graceMs`. */
export async function stopChild(child: Child | undefined, graceMs = 15_000): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.pid !== child.proc.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.proc.kill('SIGKILL');
  }, graceMs);
  await child.exited;
  clearTimeout(timer);
}

export async function stopAll(children: (Child | undefined)[]): Promise<void> {
  await Promise.all(children.map((c) => stopChild(c)));
}

export function killAllChildren(): void {
  for (const proc of live) {
    try {
      proc.kill(wrappers.has(proc) ? 'SIGTERM' : 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllChildren);
}

/** For the CLI: Ctrl-C (or a kill) stops every child before the benchmark exits. */
export function installSignalCleanup(onSignal?: () => void): void {
  installCleanup();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping child processes\n`);
      killAllChildren();
      onSignal?.();
      process.exit(130);
    });
  }
}
