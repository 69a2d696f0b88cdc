import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
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
  proc: ChildProcess;
  /** The last 64 KiB of stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code or signal name once the process has exited. */
  exited: Promise<number | string>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Node options placed before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Run a .ts file through ts-node (transpile only). */
  tsNode?: boolean;
  /** Open an IPC channel (the child reports readiness with process.send). Always on for Node children. */
  ipc?: boolean;
  /** Preload bench/procs/exit-with-parent.js (default true; the redis-server wrapper handles it itself). */
  exitWithParent?: boolean;
  args?: string[];
}

const TAIL = 64 * 1024;

const EXIT_WITH_PARENT = join(ROOT, 'bench', 'procs', 'exit-with-parent.js');

export function spawnNode(name: string, script: string, opts: SpawnOptions): Child {
  const nodeArgs = [
    ...(opts.nodeArgs ?? []),
    ...(opts.exitWithParent === false ? [] : ['-r', EXIT_WITH_PARENT]),
    ...(opts.tsNode ? ['-r', 'ts-node/register/transpile-only'] : []),
  ];
  const child = spawnProcess(name, process.execPath, [...nodeArgs, script, ...(opts.args ?? [])], opts.env, true);
  if (opts.exitWithParent === false) wrappers.add(child.proc);
  return child;
}

export function spawnProcess(name: string, command: string, args: string[], env: Record<string, string>, ipc = false): Child {
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
  return { name, proc, output: () => out.slice(-TAIL), exited };
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

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: Child | undefined, graceMs = 15_000): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
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
