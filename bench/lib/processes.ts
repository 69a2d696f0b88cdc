import { ChildProcess } from 'node:child_process';
import { relative } from 'node:path';
import { ChildHandle, ProcessSet } from '../../tools/dev/child-process';
import { ROOT, waitFor } from './util';

/**
 * Child processes of the benchmark (the shared helper, tools/dev/child-process): every one is
 * registered here and killed when the benchmark exits, however it exits (normal end, error, Ctrl-C).
 */
export const benchChildren = new ProcessSet();
let cleanupInstalled = false;

export interface Child {
  name: string;
  /** The process the benchmark spawned: the measured process itself, or the wrapper that ends it with the benchmark. */
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
 * A command we cannot change (our service's main.js, redis-server) run under the shared helper's
 * wrapper (`diesWithParent`), which ends it with the benchmark however the benchmark ends: the
 * measured process is exactly `command args`, with no IPC channel and nothing preloaded. Resolves once
 * the wrapper has reported the pid of the command.
 */
export async function spawnWrapped(name: string, command: string, args: string[], env: Record<string, string>): Promise<Child> {
  const handle = spawnHandle(name, command, args, env, { diesWithParent: true });
  const pid = await handle.commandPid;
  if (pid === undefined) throw new Error(`${name} exited at once:\n${handle.output()}`);
  const shown = command === process.execPath ? 'node' : command;
  return { ...asChild(handle), pid, commandLine: commandLine(env, shown, args) };
}

/** `A=1 B=2 command args`, paths inside the repository shown relative to it (the working directory). */
export function commandLine(env: Record<string, string>, command: string, args: string[]): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const rel = (s: string) => (s.startsWith(`${ROOT}/`) ? relative(ROOT, s) : s);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
  return [...vars, command, ...args.map((a) => quote(rel(a)))].join(' ');
}

function spawnHandle(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  opts: { ipc?: boolean; diesWithParent?: boolean } = {},
): ChildHandle {
  installCleanup();
  return benchChildren.spawn(name, {
    command,
    args,
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    ...opts,
  });
}

/** The benchmark's view of a child: the process, the last 64 KiB of its output, its exit. */
function asChild(handle: ChildHandle): Omit<Child, 'commandLine'> {
  const exited = handle.exited.then(({ code, signal }) => code ?? signal ?? 'unknown');
  return { name: handle.name, proc: handle.child, pid: handle.pid, output: () => handle.output(), exited };
}

function spawnProcess(name: string, command: string, args: string[], env: Record<string, string>, ipc = false): Omit<Child, 'commandLine'> {
  return asChild(spawnHandle(name, command, args, env, { ipc }));
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
  // Wrapped commands get SIGTERM (the wrapper passes it on and exits with them); the others SIGKILL.
  for (const child of benchChildren.live()) child.signal(child.wrapped ? 'SIGTERM' : 'SIGKILL');
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
