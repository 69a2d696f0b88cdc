import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ROOT } from './util';

export interface Environment {
  machine: string;
  node: string;
  versions: string;
  commit: string;
  srcHash: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function cpuModel(): string {
  const info = read('/proc/cpuinfo') ?? '';
  return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

/** Number of CPUs of the machine (processor lines of /proc/cpuinfo). */
export function cpuCount(): number {
  const info = read('/proc/cpuinfo');
  const n = info ? (info.match(/^processor\s*:/gm) ?? []).length : 0;
  return n || cpus().length;
}

function pkgVersion(name: string): string {
  const text = read(join(ROOT, 'node_modules', name, 'package.json'));
  return text ? (JSON.parse(text) as { version: string }).version : 'not installed';
}

/**
 * HEAD commit, read from .git files (the benchmark runs no git command). In a `git worktree`, .git is
 * a file naming the worktree's git directory (its own HEAD), whose `commondir` holds the refs.
 */
export function headCommit(): string {
  const pointer = /^gitdir: (.+)$/m.exec(read(join(ROOT, '.git')) ?? '')?.[1]?.trim();
  const gitDir = pointer ? resolve(ROOT, pointer) : join(ROOT, '.git');
  const common = read(join(gitDir, 'commondir'))?.trim();
  const refsDir = common ? resolve(gitDir, common) : gitDir;
  const head = read(join(gitDir, 'HEAD'))?.trim();
  if (!head) return 'unknown';
  if (!head.startsWith('ref: ')) return head;
  const ref = head.slice(5);
  const loose = read(join(refsDir, ref))?.trim();
  if (loose) return `${loose} (${ref.replace('refs/heads/', '')})`;
  const packed = read(join(refsDir, 'packed-refs')) ?? '';
  const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
  return line ? `${line.split(' ')[0]} (${ref.replace('refs/heads/', '')})` : `unknown (${ref})`;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out.sort();
}

/** sha256 over src/ (paths and contents): which source was measured, commit or not. */
export function srcHash(): string {
  const hash = createHash('sha256');
  for (const file of listFiles(join(ROOT, 'src'))) {
    hash.update(relative(ROOT, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export function describeEnvironment(redisVersion: string): Environment {
  return {
    machine: `${cpuCount()} CPUs (nproc), ${cpuModel()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}`,
    node: process.version,
    versions: `Redis ${redisVersion} (private redis-server, --save '' --appendonly no, maxmemory-policy noeviction), bullmq ${pkgVersion('bullmq')}, @nestjs/bullmq ${pkgVersion('@nestjs/bullmq')}, @nestjs/core ${pkgVersion('@nestjs/core')}, ioredis ${pkgVersion('ioredis')}, autocannon ${pkgVersion('autocannon')}`,
    commit: headCommit(),
    srcHash: srcHash(),
  };
}
