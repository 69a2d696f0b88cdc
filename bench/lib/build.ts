import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OurCode } from './ours';
import { ROOT } from './util';

export const BUILD_ROOT = join(ROOT, 'bench', '.build');

/**
 * Compiles src/ like `npm run build` does (tsc with tsconfig.build.json, plus the Lua scripts) into a
 * directory of this run only, inside the repository so that node_modules resolve. A concurrent
 * `npm run build` (which empties dist/) or an edit of src/ during the run then cannot change what is
 * measured. Fails when src/ does not compile.
 */
export function buildPrivateCopy(log: (line: string) => void): OurCode {
  removeStaleCopies();
  const dir = join(BUILD_ROOT, String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`building src/ into ${dir} (tsc -p tsconfig.build.json)`);
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const out = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`src/ does not compile:\n${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`);
  }
  cpSync(join(ROOT, 'src', 'queue', 'lua'), join(dir, 'queue', 'lua'), {
    recursive: true,
    filter: (path) => statSync(path).isDirectory() || path.endsWith('.lua'),
  });
  return { dir, ts: false, label: `a private build of src/ made by this run (${join('bench', '.build', String(process.pid))}, removed at the end)` };
}

/** Builds left behind by benchmark runs that were killed (their process is gone). */
function removeStaleCopies(): void {
  if (!existsSync(BUILD_ROOT)) return;
  for (const name of readdirSync(BUILD_ROOT)) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    if (!existsSync(`/proc/${name}`)) rmSync(join(BUILD_ROOT, name), { recursive: true, force: true });
  }
}

export function removePrivateCopy(code: OurCode): void {
  if (code.dir.startsWith(BUILD_ROOT)) rmSync(code.dir, { recursive: true, force: true });
}
