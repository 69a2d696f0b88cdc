import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { OurCode } from './ours';
import { ROOT } from './util';

export const BUILD_ROOT = join(ROOT, 'bench', '.build');

/**
 * What one benchmark run executes, all of it compiled JavaScript run with plain `node`:
 * - `code`: our service, compiled like `npm run build` does (tsc -p tsconfig.build.json, Lua scripts
 *   copied) into `<root>/dist`, or dist/ as found (--no-build);
 * - `js`: the benchmark itself (bench/run.ts, the worker and load-generator processes, the reference
 *   apps, and what they import) compiled by tsc into `<root>/js`, mirroring the repository layout.
 * Both live in bench/.build/<pid> (inside the repository, so node_modules resolve), private to the
 * run, so a concurrent `npm run build` or an edit cannot change what is measured mid-run.
 */
export interface BenchBuild {
  root: string;
  code: OurCode;
  js: string;
}

/** The benchmark's entry points; tsc follows their imports. */
const BENCH_ENTRIES = [
  'bench/run.ts',
  'bench/procs/our-pickup-worker.ts',
  'bench/procs/bullmq-worker.ts',
  'bench/procs/http-load.ts',
  'bench/reference-app/main.ts',
  'bench/procs/alloc-sampler.ts',
];

/** Compiles our code and the benchmark into a new private directory (in parallel: two tsc processes). */
export async function buildPrivateCopy(log: (line: string) => void, ourCode: 'build' | 'dist' = 'build'): Promise<BenchBuild> {
  removeStaleCopies();
  const root = join(BUILD_ROOT, String(process.pid));
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const dist = join(root, 'dist');
  const js = join(root, 'js');
  const benchConfig = join(root, 'tsconfig.bench.json');
  writeFileSync(
    benchConfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { rootDir: ROOT, outDir: js, noEmitOnError: true, sourceMap: false },
      files: BENCH_ENTRIES.map((f) => join(ROOT, f)),
      include: [],
    }),
  );
  const rel = relative(ROOT, root);
  log(
    ourCode === 'build'
      ? `compiling src/ (tsc -p tsconfig.build.json --outDir ${rel}/dist) and the benchmark (tsc -p ${rel}/tsconfig.bench.json)`
      : `compiling the benchmark (tsc -p ${rel}/tsconfig.bench.json); our code: dist/ as found`,
  );
  await Promise.all([
    ourCode === 'build' ? tsc(['-p', 'tsconfig.build.json', '--outDir', dist], 'src/') : Promise.resolve(),
    tsc(['-p', benchConfig], 'bench/'),
  ]);
  if (ourCode === 'build') {
    cpSync(join(ROOT, 'src', 'queue', 'lua'), join(dist, 'queue', 'lua'), {
      recursive: true,
      filter: (path) => statSync(path).isDirectory() || path.endsWith('.lua'),
    });
  }
  return existingBuild(root, ourCode);
}

/** A build made by buildPrivateCopy (e.g. by the launching process), without compiling again. */
export function existingBuild(root: string, ourCode: 'build' | 'dist'): BenchBuild {
  const rel = relative(ROOT, root);
  const code: OurCode =
    ourCode === 'build'
      ? { dir: join(root, 'dist'), ts: false, label: `a private build of src/ made by this run (tsc -p tsconfig.build.json into ${rel}/dist, removed at the end)` }
      : { dir: join(ROOT, 'dist'), ts: false, label: 'dist/ as found (--no-build)' };
  if (!existsSync(join(code.dir, 'main.js'))) throw new Error(`${code.dir}/main.js is missing${ourCode === 'dist' ? ': run `npm run build` first' : ''}`);
  return { root, code, js: join(root, 'js') };
}

/** Where the compiled form of a benchmark file (path relative to the repository, .ts) is. */
export function compiled(build: BenchBuild, relPath: string): string {
  return join(build.js, relPath.replace(/\.ts$/, '.js'));
}

function tsc(args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} does not compile (tsc ${args.join(' ')}):\n${out}`))));
  });
}

/** Builds left behind by benchmark runs that were killed (their process is gone). */
function removeStaleCopies(): void {
  if (!existsSync(BUILD_ROOT)) return;
  for (const name of readdirSync(BUILD_ROOT)) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    if (!existsSync(`/proc/${name}`)) rmSync(join(BUILD_ROOT, name), { recursive: true, force: true });
  }
}

export function removePrivateCopy(build: BenchBuild): void {
  if (build.root.startsWith(BUILD_ROOT)) rmSync(build.root, { recursive: true, force: true });
}
