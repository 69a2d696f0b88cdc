import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor as waitUntil } from '../../tools/dev/wait';

/**
 * Repository root: bench/lib -> ../.., also when this file runs compiled from a benchmark build
 * (bench/.build/<pid>/js/bench/lib), where the root is the directory holding bench/.build.
 */
export const ROOT = /^(.*)[\\/]bench[\\/]\.build[\\/]/.exec(__dirname)?.[1] ?? join(__dirname, '..', '..');

/** `DIR::K=V,K=V` (a --code= value of the bench scripts): the directory and the extra configuration. */
export function parseCodeSpec(spec: string): { dir: string; env: Record<string, string> } {
  const [dir, extra = ''] = spec.split('::');
  const env = Object.fromEntries(extra.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { dir, env };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** High-resolution wall-clock time in ms, comparable across processes on one machine. */
export function hrNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A free TCP port on the loopback interface. */
export { freePort } from '../../tools/dev/ports';

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs`. */
export function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<T> {
  return waitUntil(probe, { what, timeoutMs, intervalMs });
}

let clockTicks: number | undefined;

/** Clock ticks per second of the CPU times in /proc/<pid>/stat (getconf CLK_TCK, normally 100). */
export function clockTicksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return clockTicks;
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat; NaN when unknown. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const ticks = clockTicksPerSecond();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / ticks;
  } catch {
    return NaN;
  }
}
