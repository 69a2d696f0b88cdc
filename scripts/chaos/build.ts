import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ChaosAborted } from './util';

/** The project root (this file is scripts/chaos/build.ts). */
export const PROJECT_ROOT = join(__dirname, '..', '..');

/** Files the service must have in a build; checked before every run. */
const REQUIRED = ['main.js', 'cli/check-queue.js', 'queue/lua'];

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if ((entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) || entry.name.endsWith('.lua')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

export interface EnsureDistOptions {
  root?: string;
  /** Rebuild when a source file is newer than dist/main.js (the script and the jest test do). */
  rebuildIfStale?: boolean;
  log?: (line: string) => void;
}

/** Why dist needs a build, or undefined when it is usable. */
export function distProblem(root: string, rebuildIfStale: boolean): string | undefined {
  const dist = join(root, 'dist');
  const missing = REQUIRED.filter((f) => !existsSync(join(dist, f)));
  if (missing.length > 0) return `dist is missing ${missing.join(', ')}`;
  if (rebuildIfStale && newestSourceMtime(join(root, 'src')) > statSync(join(dist, 'main.js')).mtimeMs) {
    return 'dist is older than src';
  }
  return undefined;
}

/**
 * Builds dist with `nest build` (what `npm run build` runs: tsc on tsconfig.build.json plus the Lua
 * assets) when it is missing, or older than src when asked. The chaos run starts the service from
 * dist because ts-node costs about 2.5 s per process start and a run starts dozens of processes.
 */
export function ensureDist({ root = PROJECT_ROOT, rebuildIfStale = true, log = () => undefined }: EnsureDistOptions = {}): void {
  const problem = distProblem(root, rebuildIfStale);
  if (!problem) return;
  log(`${problem}: building it (nest build)`);
  const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  const result = spawnSync(process.execPath, [nest, 'build'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  if (result.signal === 'SIGINT' || result.signal === 'SIGTERM') throw new ChaosAborted();
  if (result.status !== 0) {
    throw new Error(`nest build failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  const still = distProblem(root, false);
  if (still) throw new Error(`nest build finished but ${still}`);
}

/**
 * Copies dist into the run's temp dir, so a rebuild of dist in the working tree during a run (the
 * build empties dist first) cannot break the replacement processes the run starts. The copy resolves
 * its packages through NODE_PATH (see serviceEnv).
 */
export function snapshotDist(root: string, into: string, source = join(root, 'dist')): string {
  const missing = REQUIRED.filter((f) => !existsSync(join(source, f)));
  if (missing.length > 0) throw new Error(`${source} is missing ${missing.join(', ')}; run npm run build`);
  const target = join(into, 'dist');
  cpSync(source, target, { recursive: true });
  if (!existsSync(join(target, 'main.js'))) throw new Error('dist snapshot has no main.js (a build was running?)');
  return target;
}
